import { z } from "zod";
import { atLeast, Permission } from "../model/index.js";
import { organizationSubject, unknownBecause } from "./subjects.js";
import { defineControl } from "./types.js";

export const basePermission = defineControl({
  id: "cc6.base-permission",
  criterion: "CC6.3",
  title: "Members' base permission is least privilege",
  appliesTo: "organization",
  params: z
    .object({
      max_permission: Permission.default("read"),
    })
    .strict(),
  passes: "The permission every member has on every repository is no higher than the policy allows.",
  fails: "Every member has more access to every repository than the policy allows.",
  remediation:
    "Lower the organization's base permission and grant higher access through teams on the repositories that need it.",
  evidence: "The organization's base repository permission for members.",
  unknownWhen: "The token cannot read the organization's settings.",
  evaluate(organization, { params }) {
    const subject = organizationSubject(organization.login, organization.url);
    const base = organization.basePermission;
    if (!base.known) return [unknownBecause(subject, "the organization's base permission", base)];
    const evidence = [
      { label: "base permission", value: base.value },
      { label: "maximum permission", value: params.max_permission },
    ];
    // Within the maximum means the maximum is at least the base permission.
    return atLeast(params.max_permission, base.value)
      ? [
          {
            subject,
            outcome: "pass",
            reason: `The base permission is ${base.value}, within the allowed ${params.max_permission}.`,
            evidence,
          },
        ]
      : [
          {
            subject,
            outcome: "fail",
            reason:
              `The base permission is ${base.value}, above the allowed ${params.max_permission}: ` +
              `every member has ${base.value} access to every repository.`,
            evidence,
          },
        ];
  },
});
