import { h, replaceChildren } from '../dom.ts';

/** The page's one modal `<dialog>`: each dialog fills it with a title, a body and its actions beside "Close". */
export class Dialog {
  readonly element = h('dialog');

  show(title: string, body: Node[], actions: Node[]): void {
    replaceChildren(
      this.element,
      h('h3', {}, title),
      ...body,
      h(
        'div',
        { class: 'actions' },
        h('button', { class: 'secondary', testid: 'dialog-close', on: { click: () => this.close() } }, 'Close'),
        ...actions,
      ),
    );
    if (!this.element.open) this.element.showModal();
  }

  close(): void {
    this.element.close();
  }
}
