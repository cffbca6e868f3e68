import { describe, expect, test } from "vitest";
import { parseComposeVersion } from "../../harness/engine/compose-binaries.js";
import { composeCommandLine, composeDocument, composeYaml } from "../../harness/lab/compose-spec.js";
import { probeStartScript } from "../../harness/lab/probe-spec.js";
import { withComposeFaults, type LabFault } from "../../harness/lab/faults.js";

const context = { image: "docknet-probe:0123456789ab", labels: { "io.docknet.run": "r1" } };
const only = (fault: LabFault) => (f: LabFault) => f === fault;

describe("Compose projects as specs", () => {
  test("every service runs the probe, never pulled, labelled; networks get labels, internal, external names; the default network only when used", () => {
    const doc = composeDocument(
      {
        services: {
          db: { serving: [5432], networks: { default: { aliases: ["database"] }, back: { gwPriority: 1 } } },
          web: { ports: ["127.0.0.1:8080:80"] },
        },
        networks: { back: { internal: true }, shared: { external: "dn-r1-shared" } },
      },
      context,
    );
    expect(doc).toEqual({
      services: {
        db: {
          image: context.image,
          pull_policy: "never",
          command: ["sh", "-c", probeStartScript([5432])],
          labels: context.labels,
          networks: { default: { aliases: ["database"] }, back: { gw_priority: 1 } },
        },
        web: {
          image: context.image,
          pull_policy: "never",
          command: ["sh", "-c", probeStartScript([])],
          labels: context.labels,
          ports: ["127.0.0.1:8080:80"],
        },
      },
      networks: {
        back: { labels: context.labels, internal: true },
        shared: { external: true, name: "dn-r1-shared" },
        default: { labels: context.labels },
      },
    });
    expect(composeDocument({ services: { solo: { networkMode: "none" } } }, context).networks).toBeUndefined();
  });

  test("the evidence's command is the file inline, pasteable", () => {
    const yaml = composeYaml(composeDocument({ services: { web: {} } }, context));
    expect(yaml).toMatch(/^services:\n {2}web:\n {4}image: docknet-probe:0123456789ab\n/);
    expect(composeCommandLine("dn-r1-app", yaml)).toBe(`docker compose -p dn-r1-app -f - up -d <<'EOF'\n${yaml}EOF`);
  });

  test("faults break a project as they break containers and networks", () => {
    const spec = {
      services: { web: { serving: [80], ports: ["127.0.0.1:8080:80"], networks: { back: {} } } },
      networks: { back: { internal: true } },
    };
    expect(withComposeFaults(spec, only("user-network-is-default-bridge")).services.web).toEqual({
      serving: [80],
      ports: ["127.0.0.1:8080:80"],
      networkMode: "bridge",
    });
    expect(withComposeFaults(spec, only("network-options-ignored")).networks).toEqual({ back: {} });
    expect(withComposeFaults(spec, only("publish-host-ip-ignored")).services.web?.ports).toEqual(["8080:80"]);
    expect(withComposeFaults(spec, only("servers-down")).services.web?.serving).toEqual([]);
    expect(withComposeFaults(spec, () => false)).toEqual(spec);
  });

  test("Compose versions: v2 as `version` and `version --short` print it; the Python v1 is refused", () => {
    expect(parseComposeVersion("Docker Compose version v2.40.3\n")).toBe("2.40.3");
    expect(parseComposeVersion("Docker Compose version 2.26.1\n")).toBe("2.26.1");
    expect(parseComposeVersion("2.26.1")).toBe("2.26.1");
    expect(parseComposeVersion("docker-compose version 1.29.2, build unknown")).toBeUndefined();
    expect(parseComposeVersion("")).toBeUndefined();
  });
});
