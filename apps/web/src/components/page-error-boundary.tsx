import { Component, type ErrorInfo, type ReactNode } from 'react';

/**
 * A page that throws while rendering — or whose code cannot be loaded (a lazy chunk gone after a
 * deploy, the network down) — shows what happened and a way out instead of a blank screen.
 */
export class PageErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: unknown): { error: Error } {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('page failed', error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    const chunk = /dynamically imported module|Importing a module script failed|Failed to fetch/i.test(error.message);
    return (
      <div className="empty-state" role="alert">
        <h2>{chunk ? 'This page could not be loaded' : 'Something went wrong on this page'}</h2>
        <p className="muted">{chunk ? 'Parley may have been updated, or the connection dropped.' : error.message}</p>
        <p>
          <button className="button primary" type="button" onClick={() => window.location.reload()}>
            Reload
          </button>
        </p>
      </div>
    );
  }
}
