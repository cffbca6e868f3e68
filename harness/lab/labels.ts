/** The labels on everything docknet creates on an engine: which run, which process, which scenario. */
export const RUN_LABEL = "io.docknet.run";
export const OWNER_LABEL = "io.docknet.owner";
export const SCENARIO_LABEL = "io.docknet.scenario";
