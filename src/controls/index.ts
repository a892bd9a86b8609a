import type { AnyControl } from "./types.js";

/** Every control soc2-bot knows, in report order. Adding a control: one file, one line here. */
export const CONTROLS: readonly AnyControl[] = [];

export function findControl(id: string): AnyControl | undefined {
  return CONTROLS.find((control) => control.id === id);
}
