/** The closed loop's part of the report: N clients, each sending its next request when the last one answered. */
import type { ModeText } from './mode';

export const closedText: ModeText = {
  describe(o, amount, warm) {
    return `${o.clients} client${o.clients === 1 ? '' : 's'} × ${amount}${warm}`;
  },
  lines() {
    return [];
  },
};
