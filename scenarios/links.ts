import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { scenario } from "../harness/scenario.js";

const DOC = "Legacy container links";

export default [
  scenario({
    id: "LK-01",
    title: "--link db:alias makes the alias and the name reachable, through a line in /etc/hosts",
    area: "links",
    doc: `${DOC} › Updating the /etc/hosts file`,
    requires: [needs.defaultBridge],
    brokenBy: "links-dropped",
    async run({ lab, check }) {
      const db = await lab.probe("db").start();
      const web = await lab.probe("web").link(db, "dbalias").start();
      const ip = check("db's address on the default bridge", await lab.addressOn(db, lab.defaultBridge)).matches(
        IPV4_ADDRESS,
      );
      check(
        "ping dbalias",
        derive(await web.ping("dbalias"), (p) => p.resolvedTo),
      ).is(ip);
      check(
        `ping ${db.name}`,
        derive(await web.ping(db.name), (p) => p.outcome),
      ).is("reached");
      check(
        "the link's line in /etc/hosts",
        derive(await web.hosts(), (entries) => entries.find((e) => e.names.includes("dbalias"))),
      ).is({
        address: ip,
        names: ["dbalias", db.shortId, db.name],
      });
    },
  }),

  scenario({
    id: "LK-02",
    title: "When a linked container comes back with a new IP, the link's /etc/hosts line follows",
    area: "links",
    doc: `${DOC} › Updating the /etc/hosts file`,
    requires: [needs.defaultBridge],
    exclusive: true,
    brokenBy: "links-dropped",
    async run({ lab, check }) {
      const db = await lab.probe("db").start();
      const web = await lab.probe("web").link(db, "dbalias").start();
      const oldIp = check("db's address", await lab.addressOn(db, lab.defaultBridge)).matches(IPV4_ADDRESS);
      check("docker stop db", await lab.stop(db)).is("accepted");
      // The engine hands out the lowest free address (and prefers a container's old one): fill the
      // holes until a filler holds db's old address, so that db must come back with another. The
      // scenario runs alone, so that no other scenario frees or takes addresses meanwhile.
      const fillers: string[] = [];
      while (fillers.length < 16 && !fillers.includes(oldIp)) {
        const filler = await lab.probe(`filler${fillers.length}`).start();
        fillers.push((await lab.addressOn(filler, lab.defaultBridge)).value);
      }
      check("the addresses fillers took", { value: fillers, how: "docker inspect filler*" }).includes(oldIp);
      check("docker start db", await lab.start(db)).is("accepted");
      const newIp = check("db's address after coming back", await lab.addressOn(db, lab.defaultBridge)).satisfies(
        `an address other than ${oldIp}`,
        (ip) => IPV4_ADDRESS.test(ip) && ip !== oldIp,
      );
      check("dbalias in web's /etc/hosts", await web.hostsAddressesOf("dbalias")).is([newIp]);
    },
  }),

  scenario({
    id: "LK-03",
    title: "Linked containers on the default bridge share environment variables; on a user network they do not",
    area: "links",
    doc: `${DOC} › Environment variables; off by default from 29.0 (moby TestLegacyLinksEnvVars)`,
    requires: [needs.defaultBridge],
    brokenBy: "links-dropped",
    async run({ since, lab, check }) {
      const db = await lab.probe("db").env("FOO", "bar").expose(80).start();
      const web = await lab.probe("web").link(db, "dbalias").start();
      const ip = check("db's address", await lab.addressOn(db, lab.defaultBridge)).matches(IPV4_ADDRESS);
      const env = await web.env();
      if (since("29.0", "Engine 29.0 release notes: legacy link environment variables off by default")) {
        check(
          "DBALIAS_ENV_FOO in web's environment (off by default from 29.0)",
          derive(env, (e) => e.DBALIAS_ENV_FOO ?? "unset"),
        ).is("unset");
      } else {
        check(
          "DBALIAS_ENV_FOO in web's environment",
          derive(env, (e) => e.DBALIAS_ENV_FOO ?? "unset"),
        ).is("bar");
        check(
          "DBALIAS_PORT_80_TCP_ADDR in web's environment",
          derive(env, (e) => e.DBALIAS_PORT_80_TCP_ADDR ?? "unset"),
        ).is(ip);
      }
      const net = await lab.network("user");
      const userDb = await lab.probe("userdb").on(net).env("FOO", "bar").expose(80).start();
      const userWeb = await lab.probe("userweb").on(net).link(userDb, "dbalias").start();
      check(
        "the alias on the user network resolves",
        derive(await userWeb.ping("dbalias"), (p) => p.outcome),
      ).is("reached");
      check(
        "DBALIAS_ENV_FOO on a user network",
        derive(await userWeb.env(), (e) => e.DBALIAS_ENV_FOO ?? "unset"),
      ).is("unset");
    },
  }),

  scenario({
    id: "LK-06",
    title: "A default-bridge container cannot link to a container that is only on a user network",
    area: "links",
    doc: "moby TestDockerNetworkLinkOnDefaultNetworkOnly",
    requires: [needs.defaultBridge],
    brokenBy: "links-dropped",
    async run({ lab, check }) {
      const net = await lab.network("user");
      const target = await lab.probe("target").on(net).start();
      const refused = await lab.probe("early").link(target, "t").attempt();
      check(
        "--link to a container on a user network only",
        derive(refused, (a) => a.started),
      ).is(false);
      check("connect the target to the default bridge", await lab.connect(target, lab.defaultBridge)).is("accepted");
      const accepted = await lab.probe("late").link(target, "t").attempt();
      check(
        "--link once the target is on the default bridge",
        derive(accepted, (a) => a.message),
      ).is("started");
    },
  }),

  scenario({
    id: "LK-07",
    title: "On a user network --link is only a scoped DNS alias; a link to a missing container is accepted",
    area: "links",
    doc: "Bridge network driver; moby TestUserDefinedNetworkLinks",
    brokenBy: "links-dropped",
    async run({ lab, check }) {
      const net = await lab.network("user");
      const db = await lab.probe("db").on(net).start();
      const web = await lab.probe("web").on(net).link(db, "foo").link(lab.name("missing"), "bar").start();
      const ip = check(`db's address on ${net.name}`, await lab.addressOn(db, net)).matches(IPV4_ADDRESS);
      check(
        "the alias foo, asked from web",
        derive(await web.ping("foo"), (p) => p.resolvedTo),
      ).is(ip);
      check("the alias foo in web's /etc/hosts", await web.hostsAddressesOf("foo")).is([]);
      const other = await lab.probe("other").on(net).start();
      check("the alias foo, asked from another container", await other.addressesOf("foo")).is([]);
      check("the alias bar of the missing container", await web.addressesOf("bar")).is([]);
    },
  }),
];
