import type * as vscode from 'vscode';

/** Owns disposables so nothing a service registers can leak past its own disposal. */
export abstract class DisposableOwner implements vscode.Disposable {
  private readonly owned: vscode.Disposable[] = [];
  private disposed = false;

  protected register<T extends vscode.Disposable>(disposable: T): T {
    if (this.disposed) disposable.dispose();
    else this.owned.push(disposable);
    return disposable;
  }

  /** How many disposables this owner holds now (a count that only grows is a leak). */
  protected get ownedCount(): number {
    return this.owned.length;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Reverse order: later registrations may depend on earlier ones.
    for (const disposable of this.owned.reverse()) {
      try {
        disposable.dispose();
      } catch {
        // Disposal must finish even if one piece throws.
      }
    }
    this.owned.length = 0;
  }
}
