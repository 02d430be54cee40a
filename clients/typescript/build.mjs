// `npm run build`, and the package's `prepare` (npm runs it for `npm pack`, for `npm ci` here, and when a front
// end installs this folder by path): src/ → dist/ with plain tsc, ES modules and .d.ts.
//
// Installed by path from a clean clone, this folder has no node_modules, and npm runs `prepare` without
// installing the folder's devDependencies first; so the build installs its own tools, pinned by this folder's
// package-lock.json, from the registry npm is configured with. The consumer's npm settings stay out of it
// (`--omit=dev` or its folder as the prefix would reach this install through npm_config_* variables).
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const tsc = join(here, "node_modules", "typescript", "bin", "tsc");
const KEEP = new Set(["cache", "userconfig", "globalconfig", "registry", "cafile", "ca", "proxy", "https_proxy", "noproxy", "strict_ssl"]);

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: here, env, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!existsSync(tsc)) {
  console.error("@squelch/act1-client: installing its build tools (npm ci in its folder), then building dist/");
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) || KEEP.has(name.slice("npm_config_".length).toLowerCase())),
  );
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
  run(npm[0], [...npm.slice(1), "ci", "--prefix", here, "--include=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], env);
}
rmSync(join(here, "dist"), { recursive: true, force: true });
run(process.execPath, [tsc, "-p", join(here, "tsconfig.build.json")]);
