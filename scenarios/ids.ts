/**
 * Every scenario ID, in the order of ALL_SCENARIOS. Other modules name scenarios by these
 * (the doctor: which scenarios a finding may explain) and the compiler holds them to this list;
 * a unit test holds this list to the scenarios themselves, so neither drifts.
 */
export const SCENARIO_IDS = [
  "DB-01", "DB-02", "DB-03", "DB-04", "DB-05", "DB-06", "DB-07", "UB-01", "UB-03", "DNS-01", "DNS-02",
  "DNS-03", "DNS-09", "DNS-10", "DNS-04", "DNS-05", "DNS-08", "DNS-07", "ISO-01", "ISO-02", "ISO-03",
  "ISO-05", "PP-01", "PP-02", "PP-03", "PP-04", "PP-05", "PP-06", "PP-07", "PP-09", "CD-01", "CD-03",
  "CD-04", "CD-05", "OPT-01", "OPT-03", "OPT-05", "OPT-07", "HOST-01", "HOST-02", "HOST-03", "HOST-04",
  "HOST-05", "V6-02", "V6-11", "V6-07", "V6-04", "V6-05", "V6-06", "V6-01", "V6-10", "NONE-01", "LK-01",
  "LK-02", "LK-03", "LK-06", "LK-07", "MV-06", "MV-07", "MV-02", "MV-04", "MV-05", "MV-01", "MV-03", "IV-01",
  "IV-02", "IV-03", "IV-04", "IV-05", "FW-03", "FW-04", "FW-05", "DC-01", "DC-02", "DC-03", "DC-04", "DC-05",
  "DC-06", "LK-04", "LK-05", "DC-07", "DC-08", "NONE-02", "V6-03", "FW-01", "FW-07", "PP-08", "V6-09",
  "OV-01", "OV-02", "OV-03", "OV-04", "OV-05", "OV-06", "OV-15", "OV-07", "OV-08", "OV-09", "OV-10", "OV-11",
  "OV-12", "OV-13", "OV-14",
] as const;

export type ScenarioId = (typeof SCENARIO_IDS)[number];
