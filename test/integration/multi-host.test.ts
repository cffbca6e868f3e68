import Docker from "dockerode";
import { describe, expect, test } from "vitest";
import type { RunReport } from "../../harness/results.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

/** The lab from the command line; the multi-host scenarios themselves run in conformance.test.ts. */
describe("docknet lab and run --lab from the command line", () => {
  test("lab up, status, run --lab ID, --nodes and down: the lab answers while up, and nothing of it remains", async () => {
    const up = await docknet(["lab", "up", "--hosts", "2", "--json"]);
    expect(up.code, up.stderr).toBe(0);
    const [lab] = (
      JSON.parse(up.stdout) as {
        labs: { id: string; held: boolean; nodes: { name: string; role: string; dockerHost: string }[] }[];
      }
    ).labs;
    if (!lab) throw new Error(`lab up --json named no lab: ${up.stdout}`);
    expect(lab.held).toBe(true);
    expect(lab.nodes.map((n) => `${n.name} ${n.role}`)).toEqual(["node1 manager", "node2 worker"]);
    // A held lab outlives `lab up`, and `docknet clean` leaves it alone.
    const clean = await docknet(["clean"]);
    expect(clean.stderr).toMatch(/labs removed: 0/);
    const statusJson = (
      JSON.parse((await docknet(["lab", "status", "--json"])).stdout) as {
        labs: { id: string; nodes: { answers: string }[] }[];
      }
    ).labs;
    expect(statusJson.find((l) => l.id === lab.id)?.nodes.map((n) => n.answers)).toEqual(["ok", "ok"]);
    const status = await docknet(["lab", "status"]);
    expect(status.stdout).toMatch(new RegExp(`lab ${lab.id} \\(kept until docknet lab down`));
    expect(status.stdout.match(/answers/g)?.length).toBe(2);
    // OV-09 re-forms the swarm with an address pool of its own: a held lab gets its default swarm back.
    const run = await docknet(["run", "OV-09", "OV-12", "--lab", lab.id, "--engine", "private", "--json", "-"]);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as RunReport).results.map((r) => `${r.id} ${r.status}`)).toEqual([
      "OV-09 passed",
      "OV-12 passed",
    ]);
    const hosts = lab.nodes.map((n) => n.dockerHost);
    const manager = new Docker({ socketPath: hosts[0]!.replace("unix://", "") });
    expect(((await manager.swarmInspect()) as { DefaultAddrPool?: string[] }).DefaultAddrPool).toEqual(["10.0.0.0/8"]);
    // --nodes naming engines that answer but are in no swarm: exit 3, one line.
    for (const host of hosts) await new Docker({ socketPath: host.replace("unix://", "") }).swarmLeave({ force: true });
    const notSwarm = await docknet(["run", "OV-12", "--engine", "private", "--nodes", hosts.join(",")]);
    expect(notSwarm.code, notSwarm.stderr).toBe(3);
    expect(notSwarm.stderr.trim().split("\n").at(-1)).toMatch(/is not in a swarm \(state inactive\)/);
    const down = await docknet(["lab", "down", lab.id]);
    expect(down.code).toBe(0);
    expect(down.stderr).toMatch(new RegExp(`lab ${lab.id} removed`));
    expect(docknetLeftovers()).toEqual([]);
  });

  test.each([
    [["lab", "up", "--hosts", "1"], /--hosts must be a whole number from 2 to 9/],
    [["lab", "up", "--hosts", "3", "--managers", "4"], /--managers must be from 1 to the number of hosts, 3/],
    [["lab", "down", "abcdef"], /no lab abcdef/],
    [["run", "OV-12", "--lab", "nope"], /--lab takes a number of hosts \(2-9\) or the id of a lab/],
    [["run", "OV-12", "--lab", "2", "--nodes", "unix:///a,unix:///b"], /--lab and --nodes both name/],
    [["run", "OV-12", "--nodes", "unix:///a"], /--nodes needs at least two swarm nodes/],
  ])("bad input %j: one line, exit 2, nothing made", async (args, message) => {
    const out = await docknet(args);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr.trim().split("\n").at(-1)).toMatch(message);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("Ctrl-C while a lab runs: the lab, its engines and namespaces are removed, exit 130", async () => {
    let interrupted = false;
    const out = await docknet(["run", "OV-12", "OV-13", "--lab", "2", "--engine", "private"], {
      onStderr: (text, child) => {
        if (!interrupted && /^multi-host: /m.test(text)) {
          interrupted = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(interrupted).toBe(true);
    expect(out.code, out.stderr).toBe(130);
    expect(docknetLeftovers()).toEqual([]);
  });

  test("a run killed outright leaves its lab; docknet clean removes it", async () => {
    const out = await docknet(["run", "OV-12", "--lab", "2", "--engine", "private"], {
      onStderr: (text, child) => {
        if (/^multi-host: /m.test(text)) child.kill("SIGKILL");
      },
    });
    expect(out.signal).toBe("SIGKILL");
    expect(docknetLeftovers().some((l) => /lab directory|docknet-lab-/.test(l))).toBe(true);
    const clean = await docknet(["clean"]);
    expect(clean.stderr).toMatch(/labs removed: 1/);
    expect(docknetLeftovers()).toEqual([]);
  });
});
