import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from "vitest";
import { cachedComposes } from "../../harness/engine/compose-binaries.js";
import { cachedEngines } from "../../harness/engine/engine-binaries.js";
import { isProcessAlive } from "../../harness/host-command.js";
import { needs } from "../../harness/capabilities.js";
import { runsOnCluster, type Scenario } from "../../harness/scenario.js";
import { ALL_SCENARIOS } from "../../scenarios/index.js";
import { tempDir } from "../temp-dir.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";
import { sshLogin } from "./ssh-login.js";
import {
  dockerGroupUser,
  firewallState,
  startSystemEngine,
  systemEngineUnavailable,
  type SystemEngine,
} from "./system-engine.js";

interface Report {
  vantage?: string;
  engine: { engineVersion: string };
  results: { id: string; status: string; reason?: string }[];
}

const HOST_NEEDS = [needs.engineHost, needs.hostNetwork, needs.outsideHost, needs.docknetLan, needs.macvlanParent];
/** Scenarios docknet runs on a private engine of their own, whatever engine the run is on (root only). */
const onOwnEngine = (s: Scenario) => s.daemon !== undefined || s.ownEngine === true;

/** The newest cached engine of 28.x (engine fetch sid, done by the test command): a Docker 28 system engine. */
const dockerd = cachedEngines().find((e) => e.version.startsWith("28.") && !e.corrupt)?.dockerd;
const unavailable = dockerd ? await systemEngineUnavailable() : "no cached Docker 28 (docknet engine fetch sid)";

/**
 * What most users have: Docker in the host's own namespace on the default
 * socket, used as root and, more often, as a member of the `docker` group
 * without sudo. docknet's own private engines prove nothing about this path.
 */
describe.skipIf(unavailable !== undefined)(
  `a system engine on the default socket (${unavailable ?? "Docker 28"})`,
  () => {
    let engine: SystemEngine;
    let user: ReturnType<typeof dockerGroupUser>;
    let home: string;
    const hostState = () => ({
      iptables: firewallState("iptables"),
      ip6tables: firewallState("ip6tables"),
      forwarding: readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim(),
      docker0: existsSync("/sys/class/net/docker0"),
    });
    let before: ReturnType<typeof hostState>;
    /** As the docker-group user: their uid, their groups, a home of their own. */
    const asUser = () => ["setpriv", "--reuid", String(user.uid), "--regid", String(user.uid), "--init-groups"];
    const statuses = (report: Report) => new Map(report.results.map((r) => [r.id, r.status]));

    beforeAll(async () => {
      before = hostState();
      engine = await startSystemEngine(dockerd!);
      user = dockerGroupUser();
      home = execFileSync("mktemp", ["-d", "/tmp/docknet-user-home-XXXX"], { encoding: "utf8" }).trim();
      execFileSync("chown", [`${user.uid}:${user.uid}`, home]);
      // The user's own Compose, on their PATH (root's cache is not theirs to read): the compose
      // scenarios run for them as for root, and docknet finds a docker-compose v2 on PATH.
      const compose = cachedComposes()[0];
      if (compose) {
        mkdirSync(join(home, "bin"));
        copyFileSync(compose.binary, join(home, "bin", "docker-compose"));
        execFileSync("chown", ["-R", `${user.uid}:${user.uid}`, join(home, "bin")]);
      }
    });

    afterAll(async () => {
      await engine?.stop();
      user?.remove();
      if (home) execFileSync("rm", ["-rf", home]);
      // The runtime the helper shipped to the engine's host (this machine) is a cache docknet keeps there.
      rmSync("/var/lib/docknet/runtime", { recursive: true, force: true });
      // The host is as it was: rules, forwarding, no docker0.
      expect(hostState()).toEqual(before);
      expect(docknetLeftovers()).toEqual([]);
    });

    let rootReport: Report;
    /**
     * What a user's run does differently from root's: the scenarios that reach the engine's host (its
     * network, or commands through the helper container) or the outside host, and the daemon-config
     * ones (they skip).
     * The rest speak only the Docker API, over the same socket either way: UB-01 stands for them.
     */
    const THROUGH_THE_HOST = ALL_SCENARIOS.filter(
      (s) =>
        !runsOnCluster(s) && (onOwnEngine(s) || s.id === "UB-01" || s.requires.some((r) => HOST_NEEDS.includes(r))),
    ).map((s) => s.id);

    /**
     * On any current engine, the daemon-config scenarios (and those that restart the engine or make it
     * a swarm manager) run on private engines of their own, as they do in conformance.test.ts: run
     * once there, not again here.
     */
    const ON_THIS_ENGINE = ALL_SCENARIOS.filter((s) => !runsOnCluster(s) && !onOwnEngine(s)).map((s) => s.id);

    test("as root: every single-host scenario that runs on the engine itself runs on it; the header says how the engine's host was reached", async () => {
      const out = await docknet(["run", ...ON_THIS_ENGINE, "--json", "-", "--no-color"]);
      expect([0, 1], out.stderr).toContain(out.code);
      rootReport = JSON.parse(out.stdout) as Report;
      expect(rootReport.engine.engineVersion).toMatch(/^28\./);
      expect(out.stderr).toMatch(/engine: current engine at unix:\/\/\/var\/run\/docker\.sock \(from default socket\)/);
      expect(rootReport.vantage).toBe("as root on this machine");
      const failed = rootReport.results.filter((r) => r.status !== "passed" && r.status !== "skipped");
      expect(failed.map((r) => `${r.id}: ${r.reason}`)).toEqual([]);
      // Nothing skips for want of root or of the engine's host.
      expect(rootReport.results.filter((r) => /not root|engine's host/.test(r.reason ?? "")).map((r) => r.id)).toEqual(
        [],
      );
    });

    test("as a docker-group user without sudo: everything root passes passes, but the daemon-config scenarios", async () => {
      const dir = tempDir("user-reports");
      chmodSync(dir, 0o777);
      const junit = join(dir, "junit.xml");
      const out = await docknet(["run", ...THROUGH_THE_HOST, "--json", "-", "--junit", junit, "--no-color"], {
        prefix: asUser(),
        env: { HOME: home, PATH: `${join(home, "bin")}:${process.env.PATH ?? ""}` },
      });
      expect([0, 1], out.stderr).toContain(out.code);
      expect(out.stderr).toMatch(
        /not root: running as root on the engine's host through a privileged helper container/,
      );
      const report = JSON.parse(out.stdout) as Report;
      expect(report.vantage).toMatch(/^through a privileged helper container on the engine \(docknet is not root\)/);
      // The reports are the user's own files.
      expect(execFileSync("stat", ["-c", "%u", junit], { encoding: "utf8" }).trim()).toBe(String(user.uid));
      const daemonConfig = new Set(ALL_SCENARIOS.filter(onOwnEngine).map((s) => s.id));
      const root = statuses(rootReport);
      const mine = statuses(report);
      expect([...mine.keys()]).toEqual(THROUGH_THE_HOST);
      const lost = THROUGH_THE_HOST.filter(
        (id) => root.get(id) === "passed" && !daemonConfig.has(id) && mine.get(id) !== "passed",
      ).map((id) => `${id}: ${mine.get(id)}`);
      expect(lost).toEqual([]);
      // The daemon-config scenarios skip, saying how to get them.
      for (const r of report.results.filter((x) => daemonConfig.has(x.id))) {
        expect(r.status).toBe("skipped");
        expect(r.reason).toMatch(/as root on this machine \(sudo docknet run/);
      }
    });

    test("--no-helper: the scenarios that need the engine's host skip, saying so", async () => {
      const out = await docknet(["run", "DB-05", "FW-04", "UB-01", "--json", "-", "--no-helper"], {
        prefix: asUser(),
        env: { HOME: home },
      });
      expect(out.code, out.stderr).toBe(0);
      const report = JSON.parse(out.stdout) as Report;
      expect(report.vantage).toMatch(/^none: docknet is not root and --no-helper refuses the helper container/);
      expect(statuses(report).get("UB-01")).toBe("passed");
      expect(report.results.find((r) => r.id === "DB-05")?.reason).toMatch(/--no-helper refuses the helper container/);
    });

    test("a user outside the docker group: permission denied, in one line naming the group to join", async () => {
      const out = await docknet(["run", "UB-01"], {
        prefix: ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"],
        env: { HOME: home },
      });
      expect(out.code).toBe(3);
      expect(out.stderr.trim().split("\n").at(-1)).toMatch(
        /^docknet: cannot use the engine at unix:\/\/\/var\/run\/docker\.sock \(from default socket\): permission denied on \/var\/run\/docker\.sock \(owned by uid 0, group docker, mode 660\): add yourself to group docker \(sudo usermod -aG docker \$USER, then log in again\), or run as root$/,
      );
    });

    test("docknet in a container of its own (another pid and mount namespace): its files are not on the engine's host, so its runtime is shipped there", async () => {
      // The user's docknet in a pid namespace with a temporary directory of its own (a tmpfs only its
      // mount namespace sees; not over /tmp, which may hold the checkout): its pid names another process on the host.
      const ownTmp = "/run/docknet-own-tmp";
      mkdirSync(ownTmp, { recursive: true });
      onTestFinished(() => rmSync(ownTmp, { recursive: true, force: true }));
      const inOwnNamespaces = [
        "unshare",
        "-p",
        "-f",
        "-m",
        "--mount-proc",
        "sh",
        "-c",
        `mount -t tmpfs -o mode=1777 tmpfs ${ownTmp} && exec "$@"`,
        "sh",
        ...asUser(),
      ];
      const out = await docknet(["run", "DB-05", "UB-01", "--json", "-"], {
        prefix: inOwnNamespaces,
        env: { HOME: home, TMPDIR: ownTmp },
      });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stderr).toMatch(
        /docknet: the engine's host is not this machine, or not this process's .*: shipping docknet's runtime there/,
      );
      const report = JSON.parse(out.stdout) as Report & { vantage: string };
      expect(report.vantage).toMatch(
        /helper container on the engine \(docknet is not root; docknet's runtime shipped there\)/,
      );
      // DB-05 needs the engine's host (an outside host beside it): it ran there, as root.
      expect(["UB-01", "DB-05"].map((id) => statuses(report).get(id))).toEqual(["passed", "passed"]);
    });

    test("an engine named by ssh:// (the user's own ssh client, key and known_hosts): run, doctor and clean reach it; what needs its host runs there through a helper, or skips with --no-helper", async () => {
      const login = await sshLogin();
      onTestFinished(() => login.stop());
      const env = { HOME: login.home, DOCKER_HOST: login.address };
      // --no-helper: what needs the engine's host skips, saying it is another host and the helper was refused.
      const refusedHelper = await docknet(["run", "UB-01", "DB-05", "--no-helper", "--json", "-"], {
        prefix: login.asUser,
        env,
      });
      expect(refusedHelper.code, refusedHelper.stderr).toBe(0);
      const here = JSON.parse(refusedHelper.stdout) as Report & { engine: { description: string } };
      expect(here.engine.description).toBe(`current engine at ${login.address} (from DOCKER_HOST, through ssh)`);
      expect(engine.version).toContain(here.engine.engineVersion);
      expect(statuses(here).get("UB-01")).toBe("passed");
      expect(here.results.find((r) => r.id === "DB-05")).toMatchObject({
        status: "skipped",
        reason: expect.stringMatching(
          /the engine is on another host \(ssh:\/\/docknet-ssh@127\.0\.0\.1:\d+\) and --no-helper refuses the helper container/,
        ),
      });
      // With the helper: docknet's runtime goes to the engine's host and the run is made there, as root;
      // DB-05 (an outside host beside the engine) and PP-06 (a stub DNS server in a container's namespace) pass.
      const out = await docknet(["run", "UB-01", "DB-05", "PP-06", "--json", "-"], { prefix: login.asUser, env });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stderr).toMatch(
        /the engine is on another host .*: running as root on the engine's host through a privileged helper container/,
      );
      const report = JSON.parse(out.stdout) as Report & { vantage: string };
      expect(report.vantage).toMatch(
        /helper container on the engine \(the engine is on another host .*; docknet's runtime shipped there\)/,
      );
      expect(["UB-01", "DB-05", "PP-06"].map((id) => statuses(report).get(id))).toEqual(["passed", "passed", "passed"]);
      // The doctor reads that host through a helper container on the engine, as for any remote engine.
      const doctor = await docknet(["doctor", "--json", "-"], { prefix: login.asUser, env });
      expect(doctor.stdout, `${doctor.stderr}\nsshd: ${login.sshdLog()}`).not.toBe("");
      const audit = JSON.parse(doctor.stdout) as { dockerHost: string; vantage: string };
      // Its readings come in a burst of sessions, more than one ssh connection carries (MaxSessions):
      // none is refused, and every reading was taken.
      expect(login.sshdLog()).not.toMatch(/no more sessions|MaxStartups/);
      expect(doctor.stdout).not.toContain("exec failed");
      expect(audit.dockerHost).toBe(login.address);
      expect(audit.vantage).toMatch(/helper container.*remote/);
      const clean = await docknet(["clean"], { prefix: login.asUser, env });
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.stderr).toContain(`on ${login.address}: 0 dead run(s), 0 container(s) and 0 network(s) removed`);
      // Swarm nodes named by ssh:// are reached the same way (the user's key, which dockerode's own
      // ssh client, knowing only an agent, could not use): this engine answers, and is in no swarm.
      const nodes = await docknet(["run", "OV-12", "--nodes", `${login.address},${login.address}`], {
        prefix: login.asUser,
        env: { HOME: login.home },
      });
      expect(nodes.code).toBe(3);
      expect(nodes.stderr.trim().split("\n").at(-1)).toBe(
        `docknet: ${login.address} is not in a swarm (state inactive)`,
      );
      // A login the host refuses: one line with ssh's own reason, exit 3, nothing started.
      const refused = await docknet(["run", "UB-01"], {
        prefix: login.asUser,
        env: { ...env, DOCKER_HOST: `ssh://nobody@127.0.0.1:${login.port}` },
      });
      expect(refused.code).toBe(3);
      expect(refused.stderr.trim().split("\n").at(-1)).toMatch(
        /^docknet: no engine answers at ssh:\/\/nobody@127\.0\.0\.1:\d+ \(from DOCKER_HOST\): ssh: .*Permission denied/,
      );
      // kill -9 of the user's docknet mid-run: the run on the engine's host sees its stdin end and tears
      // down as on SIGTERM; `docknet clean` ends and removes the dead docknet's ssh tunnel.
      // (--repeat 30: minutes, longer than the wait below, so only the teardown can end it in time.)
      const killed = await docknet(["run", "dns", "--repeat", "30", "--concurrency", "1", "--no-color"], {
        prefix: login.asUser,
        env,
        onStderr: (text, child) => {
          if (/^(PASS|FAIL|SKIP)/m.test(text) && child.exitCode === null && !child.killed) child.kill("SIGKILL");
        },
      });
      expect(killed.signal).toBe("SIGKILL");
      const docker = new Docker({ socketPath: engine.dockerHost.slice("unix://".length) });
      const helpers = async () =>
        (await docker.listContainers({ all: true, filters: { label: ["io.docknet.helper"] } })).length;
      const deadline = Date.now() + 60_000;
      while ((await helpers()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      expect(await helpers()).toBe(0);
      expect(docknetLeftovers()).toEqual([]);
      const afterKill = await docknet(["clean"], { prefix: login.asUser, env });
      expect(afterKill.code, afterKill.stderr).toBe(0);
      expect(afterKill.stderr).toContain("ssh tunnels of dead runs removed: 1");
      // Nothing of the ssh connections outlives the runs: no tunnel directory, no ssh process.
      expect(readdirSync(tmpdir()).filter((f) => f.startsWith("docknet-ssh-tunnel-"))).toEqual([]);
      expect(
        execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
          .split("\n")
          .filter((l) => /^ssh .*docknet-ssh-tunnel-/.test(l)),
      ).toEqual([]);
    });

    test("as the user: an unwritable report path is exit 2 in one line, before any work", async () => {
      const out = await docknet(["run", "UB-01", "--json", "/root/report.json"], {
        prefix: asUser(),
        env: { HOME: home },
      });
      expect(out.code).toBe(2);
      expect(out.stderr.trim().split("\n")).toEqual([
        "docknet: --json /root/report.json: cannot write there: permission denied (/root/report.json)",
      ]);
    });

    test("as the user: kill -9 mid-run, the run through the helper cleans up after itself; docknet clean finds nothing", async () => {
      const out = await docknet(["run", "dns", "--concurrency", "1", "--no-color"], {
        prefix: asUser(),
        env: { HOME: home },
        onStderr: (text, child) => {
          if (/^(PASS|FAIL|SKIP)/m.test(text) && child.exitCode === null && !child.killed) child.kill("SIGKILL");
        },
      });
      expect(out.signal).toBe("SIGKILL");
      // The helper notices its user's process is gone and tears down as on SIGTERM.
      const deadline = Date.now() + 60_000;
      const docker = new Docker({ socketPath: engine.dockerHost.slice("unix://".length) });
      const helpers = async () =>
        (await docker.listContainers({ all: true, filters: { label: ["io.docknet.helper"] } })).length;
      while ((await helpers()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      expect(await helpers()).toBe(0);
      // The proof the helper used is gone too: it removes the nonce as soon as it has seen it.
      expect(readdirSync(tmpdir()).filter((f) => f.startsWith("docknet-helper-"))).toEqual([]);
      const clean = await docknet(["clean"], { prefix: asUser(), env: { HOME: home } });
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.stderr).toMatch(/0 dead run\(s\), 0 container\(s\) and 0 network\(s\) removed/);
      expect(docknetLeftovers()).toEqual([]);
    });

    test("scripts/host-packages on a host whose dockerd came from no Debian package installs nothing that conflicts and leaves the engine running", async () => {
      const dir = tempDir("host-packages");
      const pid = engine.pid;
      // This machine's dockerd comes first on PATH, as Docker CE's does; apt-get only records what it is asked.
      const bin = join(dir, "bin");
      execFileSync("mkdir", [bin]);
      execFileSync("ln", ["-s", dockerd!, join(bin, "dockerd")]);
      writeFileSync(join(bin, "apt-get"), `#!/bin/sh\necho "$@" >> ${dir}/apt-get.calls\n`);
      chmodSync(join(bin, "apt-get"), 0o755);
      const script = join(import.meta.dirname, "..", "..", "scripts", "host-packages");
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
      const present = execFileSync("bash", [script], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(present).toBe("");
      expect(existsSync(join(dir, "apt-get.calls"))).toBe(false);
      // Without a static busybox, only busybox-static is asked for, and never with removals.
      execFileSync("bash", [script], { env: { ...env, DOCKNET_BUSYBOX: join(dir, "no-busybox") }, stdio: "ignore" });
      const calls = readFileSync(join(dir, "apt-get.calls"), "utf8").trim().split("\n");
      const installs = calls.filter((c) => c.includes("install"));
      expect(installs).toHaveLength(1);
      expect(installs[0]).toMatch(/--no-remove/);
      expect(installs[0]).toMatch(/ busybox-static$/);
      expect(calls.join("\n")).not.toMatch(/docker\.io|containerd|runc|(^|\s)(remove|purge|autoremove)(\s|$)/);
      // The engine is the same process, and answers.
      expect(isProcessAlive(pid)).toBe(true);
      const docker = new Docker({ socketPath: engine.dockerHost.slice("unix://".length) });
      expect((await docker.version()).Version).toMatch(/^28\./);
    });
  },
);
