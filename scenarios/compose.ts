import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { AFTER_CONTROL_SECONDS } from "../harness/lab/probe.js";
import { scenario } from "../harness/scenario.js";

const DOC = "Compose › Networking in Compose";

/** Most users meet Docker networking through Compose: the same behaviours, as a compose file asks for them. */
export default [
  scenario({
    id: "CMP-01",
    title:
      "Compose puts a project's services on <project>_default, where each resolves the others by service name and alias",
    area: "compose",
    tags: ["compose"],
    doc: `${DOC} (each container joins the default network and is discoverable by its service name); services.networks.aliases`,
    requires: [needs.compose],
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check }) {
      const project = await lab.compose.up("app", {
        services: { db: { serving: [5432], networks: { default: { aliases: ["database"] } } }, web: {} },
      });
      const web = project.service("web");
      const db = project.service("db");
      const network = project.network("default");
      check(
        "the project's networks web is on",
        derive(await lab.inspect(web), (f) => Object.keys(f.networks)),
      ).is([`${project.name}_default`]);
      const ip = check(`db's address on ${network.name}`, await lab.addressOn(db, network)).matches(IPV4_ADDRESS);
      check('"db" (the service name) from web', await web.addressesOf("db")).is([ip]);
      check('"database" (db\'s alias) from web', await web.addressesOf("database")).is([ip]);
      check("web -> db:5432", await web.connect("db", 5432)).is("open");
    },
  }),

  scenario({
    id: "CMP-02",
    title: "A Compose network with internal: true has no way out, while its services still reach each other",
    area: "compose",
    tags: ["compose"],
    doc: `${DOC}; Compose file reference › networks › internal`,
    requires: [needs.compose, needs.outsideHost],
    brokenBy: "network-options-ignored",
    async run({ lab, check, engine }) {
      const outside = engine.outsideHost!;
      const project = await lab.compose.up("internal", {
        services: {
          api: { serving: [80], networks: { back: {} } },
          worker: { networks: { back: {} } },
          edge: { networks: { default: {} } },
        },
        networks: { back: { internal: true } },
      });
      const worker = project.service("worker");
      check("worker -> api:80 on the internal network", await worker.request("api", 80)).is("HTTP 404");
      check(
        `control: http://${outside.address} (the outside host) from edge, on the project's default network`,
        await project.service("edge").request(outside.address, 80),
      ).is("HTTP 404");
      check(
        `http://${outside.address} (the outside host) from worker`,
        await lab.steadyFirewall(() => worker.request(outside.address, 80, AFTER_CONTROL_SECONDS)),
      ).isNot("HTTP 404");
      check(
        `${project.network("back").name} is internal`,
        derive(await lab.inspectNetwork(project.network("back")), (n) => n.internal),
      ).is(true);
    },
  }),

  scenario({
    id: "CMP-03",
    title: "Two Compose projects that declare one external network resolve and reach each other's services on it",
    area: "compose",
    tags: ["compose"],
    doc: `${DOC} › Use a pre-existing network (external: true)`,
    requires: [needs.compose],
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check }) {
      const shared = await lab.network("shared");
      const external = { networks: { shared: { external: shared.name } } };
      const front = await lab.compose.up("front", { services: { proxy: { networks: { shared: {} } } }, ...external });
      const back = await lab.compose.up("back", {
        services: { catalog: { serving: [80], networks: { shared: {} } } },
        ...external,
      });
      const proxy = front.service("proxy");
      const catalog = back.service("catalog");
      const ip = check(`catalog's address on ${shared.name}`, await lab.addressOn(catalog, shared)).matches(
        IPV4_ADDRESS,
      );
      check('"catalog" (project back\'s service) from project front', await proxy.addressesOf("catalog")).is([ip]);
      check("proxy -> catalog:80", await proxy.request("catalog", 80)).is("HTTP 404");
    },
  }),

  scenario({
    id: "CMP-04",
    title:
      'ports: "127.0.0.1:HOST:80" publishes on the host\'s loopback only: the host reaches it, the outside does not',
    area: "compose",
    tags: ["compose"],
    doc: "Compose file reference › services › ports (HOST_IP:HOST_PORT:CONTAINER_PORT); Port publishing and mapping",
    requires: [needs.compose, needs.hostNetwork, needs.outsideHost],
    brokenBy: "publish-host-ip-ignored",
    async run({ lab, check, engine }) {
      const outsideHost = engine.outsideHost!;
      const [local, everywhere] = await lab.hostPorts(2);
      const project = await lab.compose.up("ports", {
        services: {
          local: { serving: [80], ports: [`127.0.0.1:${local}:80`] },
          everywhere: { serving: [80], ports: [`${everywhere}:80`] },
        },
      });
      check(
        "docker compose port local 80",
        derive(await lab.inspect(project.service("local")), (f) => f.ports["80/tcp"] ?? []),
      ).is([`127.0.0.1:${local}`]);
      const host = await lab.hostObserver();
      const outside = lab.outside.host();
      check(`127.0.0.1:${local} from the host`, await host.request("127.0.0.1", local!)).is("HTTP 404");
      check(
        `control: ${outsideHost.engineAddress}:${everywhere} (published on all addresses) from outside`,
        await outside.request(outsideHost.engineAddress, everywhere!),
      ).is("HTTP 404");
      check(
        `${outsideHost.engineAddress}:${local} (published on 127.0.0.1) from outside`,
        await outside.request(outsideHost.engineAddress, local!, AFTER_CONTROL_SECONDS),
      ).isNot("HTTP 404");
    },
  }),

  scenario({
    id: "CMP-05",
    title: "gw_priority chooses which of a service's networks gives it its default gateway",
    area: "compose",
    tags: ["compose"],
    doc: "Compose file reference › services › networks › gw_priority; Engine 28.0 release notes (gw-priority)",
    requires: [
      needs.compose,
      needs.engineAtLeast("28.0", "gw-priority arrived in Engine 28.0, API 1.48"),
      needs.composeAtLeast("2.33", "gw_priority arrived in Compose 2.33"),
    ],
    brokenBy: "gw-priority-ignored",
    async run({ lab, check }) {
      // Two networks; the engine's own choice between them is the control, then a priority turns it.
      const networks = { alpha: {}, beta: {} };
      const plain = await lab.compose.up("plain", {
        services: { box: { networks: { alpha: {}, beta: {} } } },
        networks,
      });
      const gateways = async (project: typeof plain) =>
        Object.fromEntries(
          await Promise.all(
            ["alpha", "beta"].map(async (key) => [
              key,
              (await lab.gatewayOn(project.service("box"), project.network(key))).value,
            ]),
          ),
        ) as Record<"alpha" | "beta", string>;
      const plainGateways = await gateways(plain);
      const chosen = check(
        "control: the default gateway without gw_priority",
        await plain.service("box").defaultGateway(),
      ).isOneOf([plainGateways.alpha, plainGateways.beta]);
      const other = chosen === plainGateways.alpha ? "beta" : "alpha";
      const prioritized = await lab.compose.up("prioritized", {
        services: { box: { networks: { alpha: {}, beta: {}, [other]: { gwPriority: 1 } } } },
        networks,
      });
      const wanted = (await gateways(prioritized))[other];
      check(
        `the default gateway with gw_priority: 1 on ${other}`,
        await prioritized.service("box").defaultGateway(),
      ).is(wanted);
    },
  }),
];
