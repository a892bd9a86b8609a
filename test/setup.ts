import nock from "nock";

// No test reaches a real code host: only the project's own simulated host on loopback.
nock.disableNetConnect();
nock.enableNetConnect((host) => host.startsWith("127.0.0.1") || host.startsWith("localhost"));
