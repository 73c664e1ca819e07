import type { ConnectionStatus } from '@pulse/sdk';
import { h, replaceChildren } from '../dom.ts';

const TRANSPORT_NAMES = { webtransport: 'WebTransport', websocket: 'WebSocket' } as const;

/** The connection's state and transport (WebTransport / WebSocket), as a dot and a word; `data-state` and `data-transport` say the same to scripts. */
export class TransportBadge {
  readonly element = h('span', { class: 'badge', testid: 'transport' });

  render(status: ConnectionStatus): void {
    const dot = h('span', { class: `dot ${status.state === 'connected' ? 'on' : 'wait'}` });
    const label =
      status.state === 'connected' && status.transport !== undefined
        ? TRANSPORT_NAMES[status.transport]
        : status.state === 'reconnecting'
          ? 'reconnecting…'
          : 'connecting…';
    this.element.dataset.state = status.state;
    this.element.dataset.transport = status.transport ?? '';
    replaceChildren(this.element, dot, label);
  }
}
