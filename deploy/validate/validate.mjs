#!/usr/bin/env node
// Validates the custom resources in the generated deploy files offline, against the Strimzi and
// prometheus-operator schemas that @kubernetes-models ships (compiled from the operators' CRDs), so a
// wrong field type or a missing required field is caught before a cluster's API server sees it.
// Usage: node validate.mjs FILE_OR_DIR... ; exits 1 naming file, kind, name and the schema error.
// Core kinds (StatefulSet, Service, ...) are checked by the Python tests with kubernetes-validate.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import * as strimzi from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

// The custom resources the hub exports; any other kind in a custom API group is an error.
const MODELS = {
  "kafka.strimzi.io/v1": pick(strimzi, ["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"]),
  "monitoring.coreos.com/v1": pick(monitoring, ["PodMonitor", "PrometheusRule"]),
};
// Checked elsewhere (kubernetes-validate) or not a cluster resource at all.
const CORE = new Set(["v1", "apps/v1", "kustomize.config.k8s.io/v1beta1"]);
// The models' schemas let unknown properties through (the CRDs do not forbid them), so at least the
// top level is held to what a resource we write may carry.
const TOP_LEVEL = new Set(["apiVersion", "kind", "metadata", "spec"]);

function pick(module, kinds) {
  return Object.fromEntries(kinds.map((kind) => [kind, module[kind]]));
}

function yamlFiles(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => (/\.ya?ml$/.test(name) ? yamlFiles(join(path, name)) : []));
}

function describe(error) {
  const where = error.instancePath || "/";
  const params = error.params ? ` ${JSON.stringify(error.params)}` : "";
  return `${where}: ${error.message ?? error.keyword}${params}`;
}

function check(file) {
  const problems = [];
  let count = 0;
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) {
      problems.push(`${file}: YAML error: ${doc.errors[0].message}`);
      continue;
    }
    const data = doc.toJS();
    if (data === null || data === undefined) continue;
    const { apiVersion, kind } = data;
    const name = data.metadata?.name ?? "(no name)";
    const label = `${file}: ${kind} ${name}`;
    if (CORE.has(apiVersion)) continue;
    const Model = MODELS[apiVersion]?.[kind];
    if (!Model) {
      problems.push(`${label}: unknown kind ${apiVersion}/${kind}, no schema to validate it against`);
      continue;
    }
    count += 1;
    for (const key of Object.keys(data)) {
      if (!TOP_LEVEL.has(key)) problems.push(`${label}: /: unknown top-level field ${key}`);
    }
    try {
      new Model(data).validate();
    } catch (err) {
      const errors = err.errors ?? [{ message: String(err.message ?? err) }];
      for (const e of errors) problems.push(`${label}: ${describe(e)}`);
    }
  }
  return { problems, count };
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error("usage: node validate.mjs FILE_OR_DIR...");
  process.exit(2);
}
let problems = [];
let checked = 0;
for (const file of args.flatMap(yamlFiles)) {
  const result = check(file);
  problems = problems.concat(result.problems);
  checked += result.count;
}
for (const p of problems) console.error(p);
console.log(`${checked} custom resources checked, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
