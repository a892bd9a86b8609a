// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules", "out", "coverage", "bench/out", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@octokit/*", "@gitbeaker/*"],
              message: "Only src/providers (and src/sim, tests, bench) may talk to a code host client.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["bin/**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
  {
    files: ["src/providers/**", "src/app/**", "src/sim/**", "test/**", "bench/**"],
    rules: { "no-restricted-imports": "off" },
  },
);
