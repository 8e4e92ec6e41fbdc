/** The EventBridge `source` of every event fabricctl puts (state machine, webhook, sweeps). */
export const EVENT_SOURCE = 'fabricctl';
