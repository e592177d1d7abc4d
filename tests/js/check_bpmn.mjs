// Imports BPMN files with bpmn-moddle (the model layer of bpmn-js and Camunda Modeler) and
// checks their diagram interchange: prints one JSON line per file for tests/test_bpmn_files.py.
import { readFileSync } from "node:fs";
import { BpmnModdle } from "bpmn-moddle";

const moddle = new BpmnModdle();

async function check(path) {
  const xml = readFileSync(path, "utf8");
  const { rootElement, warnings } = await moddle.fromXML(xml, "bpmn:Definitions");
  const drawn = new Set();
  for (const diagram of rootElement.diagrams || []) {
    for (const el of diagram.plane.planeElement || []) {
      if (el.bpmnElement) drawn.add(el.bpmnElement.id);
      if (el.$type === "bpmndi:BPMNEdge" && (!el.waypoint || el.waypoint.length < 2)) {
        drawn.delete(el.bpmnElement.id);
      }
    }
  }
  const undrawn = [];
  for (const root of rootElement.rootElements) {
    if (root.$type !== "bpmn:Process") continue;
    for (const el of root.flowElements || []) undrawn.push(...(drawn.has(el.id) ? [] : [el.id]));
    for (const set of root.laneSets || []) {
      for (const lane of set.lanes || []) if (!drawn.has(lane.id)) undrawn.push(lane.id);
    }
  }
  return { path, warnings: warnings.map((w) => w.message), undrawn };
}

for (const path of process.argv.slice(2)) {
  try {
    console.log(JSON.stringify(await check(path)));
  } catch (err) {
    console.log(JSON.stringify({ path, error: String(err) }));
  }
}
