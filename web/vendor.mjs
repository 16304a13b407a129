// Copy Leaflet's built files (dist/) into the Python package's static folder.
// Run after `npm ci`: `npm run vendor`. The copies are committed so that `make run` needs no Node.js.
import { cpSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "node_modules", "leaflet", "dist");
const target = join(here, "..", "src", "ansim", "web", "static", "vendor", "leaflet");
const version = JSON.parse(readFileSync(join(here, "node_modules", "leaflet", "package.json"))).version;
mkdirSync(target, { recursive: true });
for (const file of ["leaflet.js", "leaflet.css", "LICENSE"]) {
  const from = file === "LICENSE" ? join(dist, "..", "LICENSE") : join(dist, file);
  cpSync(from, join(target, file));
}
cpSync(join(dist, "images"), join(target, "images"), { recursive: true });
console.log(`leaflet ${version} → ${target}`);
