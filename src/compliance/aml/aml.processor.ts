/**
 * The AML monitor: a projection over completed banking transactions and
 * captured payments that folds each customer's activity through the rules
 * (aml.window.ts) and raises alerts as events (`amlalert-<alertId>`).
 *
 * Exactly once per rule, customer and window, through restarts and replays:
 * - the state (one row per customer in `aml_subjects`) moves in the batch
 *   transaction with the checkpoint, so after a crash the batch is folded
 *   again from the state before it, giving the same alerts;
 * - alerts are raised in `beforeBatch`, before that transaction (no append
 *   while the read-model transaction holds SQLite's write lock), so a crash
 *   between the two raises them again: their event ids derive from the
 *   alert's key (rule, customer, window), the store finds them already
 *   there, and nothing is written. An alert already in the log is not
 *   appended again even when its content would now differ (thresholds
 *   changed, then a rebuild): raised once means once.
 *
 * @example
 * const engine = createProjectionEngine({ store, readModels, projections: [amlMonitorProjection(store)] });
 */
import { createHash } from 'node:crypto';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { isDaybookError, READ_BATCH_MAX } from '../../kernel/index.ts';
import { defineProjection, type ProjectionDefinition, type ProjectionTx } from '../../projections/index.ts';
import { alertRaised } from './aml.alert.ts';
import { type AmlConfig, amlConfig } from './aml.config.ts';
import { AML_ALERT_CATEGORY, alertKey, type AmlAlertRaised } from './aml.events.ts';
import type { Activity } from './aml.rules.ts';
import { ActivitySource, AML_SOURCE_CATEGORIES, AML_SOURCE_TYPES } from './aml.sources.ts';
import { applyActivity, decodeSubjectState, EMPTY_SUBJECT_STATE, encodeSubjectState, type SubjectState } from './aml.window.ts';

export const AML_PROJECTION_NAME = 'aml_monitor';
export const AML_SUBJECTS_TABLE = 'aml_subjects';
/** Who raised an alert, in its metadata. */
export const AML_ACTOR = 'system:aml_monitor';

/** The alert's id and its event's id, from its key: the same key always gives the same ids. */
export function alertIdsOf(key: string): { alertId: string; eventId: string } {
  const digest = createHash('sha256').update(`daybook-aml\u0000${key}`).digest();
  const hex = digest.toString('hex');
  // A name-based UUID (version 5 layout, SHA-256 truncated): the store wants a UUID for a caller's event id.
  const bytes = Buffer.from(digest.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const u = bytes.toString('hex');
  return { alertId: `aml_${hex.slice(0, 32)}`, eventId: `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}` };
}

type Evaluation = { alerts: Array<{ eventId: string; event: AmlAlertRaised }>; states: Map<string, { state: SubjectState; position: bigint }> };

/** Folds a batch into the customers' states (loaded through `load`), collecting the alerts in log order. */
export async function evaluateBatch(
  events: readonly RecordedEvent[], source: ActivitySource, config: AmlConfig, load: (subjects: string[]) => Promise<Map<string, SubjectState>>,
): Promise<Evaluation> {
  const activities: Activity[] = [];
  for (const event of events) activities.push(...(await source.activitiesOf(event)));
  const loaded = activities.length === 0 ? new Map<string, SubjectState>() : await load([...new Set(activities.map((activity) => activity.subject))]);
  const states = new Map<string, { state: SubjectState; position: bigint }>();
  const alerts: Evaluation['alerts'] = [];
  for (const activity of activities) {
    const before = states.get(activity.subject)?.state ?? loaded.get(activity.subject) ?? EMPTY_SUBJECT_STATE;
    const { state, alerts: drafts } = applyActivity(before, activity, config);
    states.set(activity.subject, { state, position: activity.position });
    for (const draft of drafts) {
      const { alertId, eventId } = alertIdsOf(alertKey(draft.rule, activity.subject, draft.window));
      alerts.push({ eventId, event: alertRaised(draft, alertId) });
    }
  }
  return { alerts, states };
}

async function loadStates(tx: ProjectionTx, subjects: string[]): Promise<Map<string, SubjectState>> {
  const states = new Map<string, SubjectState>();
  for (let start = 0; start < subjects.length; start += 500) {
    const chunk = subjects.slice(start, start + 500);
    const placeholders = chunk.map((_, index) => `$${index + 1}`).join(', ');
    const rows = await tx.query<{ subject: string; state: string }>(`SELECT subject, state FROM ${tx.table(AML_SUBJECTS_TABLE)} WHERE subject IN (${placeholders})`, chunk);
    for (const row of rows) states.set(row.subject, decodeSubjectState(row.state));
  }
  return states;
}

/** Appends the alerts the log does not hold yet, each on its own stream. */
export async function raiseAlerts(store: EventStore, alerts: Evaluation['alerts']): Promise<AmlAlertRaised[]> {
  const existing = new Set<string>();
  for (let start = 0; start < alerts.length; start += READ_BATCH_MAX) {
    const found = await store.readEventsById(alerts.slice(start, start + READ_BATCH_MAX).map((alert) => alert.eventId));
    for (const event of found) existing.add(event.eventId);
  }
  const raised: AmlAlertRaised[] = [];
  for (const { eventId, event } of alerts) {
    if (existing.has(eventId)) continue;
    try {
      await store.append({
        streamId: `${AML_ALERT_CATEGORY}-${event.data.alertId}`, expectedVersion: 'any',
        events: [{ id: eventId, type: event.type, data: event.data, metadata: { actor: AML_ACTOR } }],
      });
      raised.push(event);
    } catch (error) {
      // Raised meanwhile by another worker (with what it saw then): raised once is what counts.
      if (!isDaybookError(error, 'event_id_conflict')) throw error;
    }
  }
  return raised;
}

export interface AmlMonitorOptions {
  config?: Partial<AmlConfig>;
  /** Told of each alert appended (not of those the log already held). */
  onRaised?: (alert: AmlAlertRaised) => void;
}

/** The `aml_monitor` projection on a store: register it with the projection engine. */
export function amlMonitorProjection(store: EventStore, options: AmlMonitorOptions = {}): ProjectionDefinition {
  const config = amlConfig(options.config);
  const source = new ActivitySource(store);
  return defineProjection({
    name: AML_PROJECTION_NAME,
    version: 1,
    tables: [AML_SUBJECTS_TABLE],
    handles: { categories: AML_SOURCE_CATEGORIES, types: AML_SOURCE_TYPES },
    // Skipping a transaction would blind every rule to it: stop and alert instead.
    onPoison: 'stop',
    async migrate(tx) {
      await tx.execute(`CREATE TABLE ${tx.table(AML_SUBJECTS_TABLE)} (subject text PRIMARY KEY, state text NOT NULL, last_position bigint NOT NULL)`);
    },
    async beforeBatch(events, read) {
      const { alerts } = await evaluateBatch(events, source, config, (subjects) => read((tx) => loadStates(tx, subjects)));
      const raised = await raiseAlerts(store, alerts);
      if (options.onRaised) for (const alert of raised) options.onRaised(alert);
    },
    async handle(events, tx) {
      const { states } = await evaluateBatch(events, source, config, (subjects) => loadStates(tx, subjects));
      const table = tx.table(AML_SUBJECTS_TABLE);
      for (const [subject, { state, position }] of states) {
        await tx.execute(`INSERT INTO ${table} (subject, state, last_position) VALUES ($1, $2, $3)
          ON CONFLICT (subject) DO UPDATE SET state = excluded.state, last_position = excluded.last_position`, [subject, encodeSubjectState(state), position]);
      }
    },
  });
}
