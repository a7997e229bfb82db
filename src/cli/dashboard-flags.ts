/**
 * `--dashboard [PORT]` on experiments, campaigns and sweeps: a live page, Server-Sent Events and
 * Prometheus metrics for the runs of this command (src/dashboard). It binds before any run
 * starts, so a port that cannot be used stops the command (exit 2) with nothing begun.
 */
import type { RunEvent } from '../orchestrator/events.ts';
import type { ArgsOf } from './settings.ts';

export interface RunDashboard {
  /** every event of every run of the command; `label` names the run in a campaign or sweep */
  onEvent(event: RunEvent, label?: string): void;
  /** a campaign's runs before they start, so per-seed progress shows them */
  plan(label: string, cycles: number): void;
  close(): Promise<void>;
}

/** The dashboard's settings: the same on experiment (campaigns too) and sweep. */
type DashboardArgs = Pick<ArgsOf<'experiment'>, 'dashboard' | 'dashboardHost'>;

/** Starts the dashboard when --dashboard was given (null otherwise); prints its URL through `log`. */
export async function openRunDashboard(args: DashboardArgs, log: (line: string) => void): Promise<RunDashboard | null> {
  if (args.dashboard === undefined) return null;
  // Loaded only when asked for: a run without a dashboard carries none of its modules.
  const [{ labelsOfRunLabel }, { startDashboard }, { DashboardState }] = await Promise.all([
    import('../dashboard/follow.ts'),
    import('../dashboard/server.ts'),
    import('../dashboard/state.ts'),
  ]);
  const state = new DashboardState();
  const server = await startDashboard({
    host: args.dashboardHost,
    port: args.dashboard,
    state,
    flags: { host: '--dashboard-host', port: '--dashboard' },
  });
  log(`dashboard: ${server.url} (metrics: ${server.url}metrics)`);
  return {
    onEvent: (event, label = '') => {
      state.apply(label, event, Date.now(), labelsOfRunLabel(label));
      server.notify();
    },
    plan: (label, cycles) => state.plan(label, labelsOfRunLabel(label), cycles),
    close: () => server.close(),
  };
}
