/**
 * The browser operations Pulse's page tests need, the same for every browser:
 * Chromium is driven by playwright-core, Firefox by puppeteer-core (WebDriver
 * BiDi), and a test written against these interfaces runs in both. Selectors are
 * CSS; every wait has a timeout and fails with what it waited for.
 */
export type BrowserName = 'chromium' | 'firefox';

export interface ContextOptions {
  /** Runs in every page of the context before the page's own scripts. */
  readonly initScript?: () => void;
  /** Grants `permissions` to `origin`, as a user answering "Allow" would. */
  readonly grant?: { readonly origin: string; readonly permissions: readonly 'notifications'[] };
}

export interface WaitOptions {
  /** Default 20 s. */
  readonly timeout?: number;
}

export interface TextOptions extends WaitOptions {
  /** An element inside the match has exactly this text (else: the match's text contains it). */
  readonly exact?: boolean;
}

export interface TestBrowser {
  readonly name: BrowserName;
  newContext(options?: ContextOptions): Promise<TestContext>;
  close(): Promise<void>;
}

/** Pages of one context share storage (IndexedDB, service workers, locks), as tabs of one profile do. */
export interface TestContext {
  newPage(): Promise<TestPage>;
  close(): Promise<void>;
}

export interface TestPage {
  readonly context: TestContext;
  goto(url: string): Promise<void>;
  /** Replaces the value of the input, as typing would. */
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  /** Ticks a checkbox (nothing if it is ticked already). */
  check(selector: string): Promise<void>;
  /** Waits until an element matching `selector` is visible. */
  waitFor(selector: string, options?: WaitOptions): Promise<void>;
  /** Waits until an element matching `selector` shows `text` and is visible. */
  waitForText(selector: string, text: string, options?: TextOptions): Promise<void>;
  /** The text of the first match (waits for one to exist). */
  text(selector: string): Promise<string>;
  /** The texts of every match, in document order (no wait). */
  texts(selector: string): Promise<string[]>;
  /** An attribute of the first match (waits for one to exist); null when absent. */
  attribute(selector: string, name: string): Promise<string | null>;
  /** Runs `fn` in the page; its result must be JSON-like. */
  evaluate<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Waits until `predicate` returns true in the page. */
  waitForFunction(predicate: () => boolean, options?: WaitOptions): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_WAIT_MS = 20_000;
