/**
 * The case queue on a store: one case per alert (`amlcase-<alertId>`),
 * decided by `amlCaseDecider` and appended with the exact version it was
 * decided on (a concurrent step by another analyst is a version conflict,
 * and the loser sees the new status when it tries again).
 *
 * @example
 * const cases = new AmlCaseService(store, systemClock);
 * await cases.open(alertId, 'alice');
 * await cases.step({ type: 'StartInvestigation', caseId: alertId, analyst: 'alice', note: '' });
 * await cases.step({ type: 'EscalateSar', caseId: alertId, analyst: 'alice', note: 'funds routed to a shell company' });
 */
import { StreamStates } from '../../decider/index.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { type Clock, DaybookError } from '../../kernel/index.ts';
import { AML_ALERT_CATEGORY, type AmlAlertRaised } from './aml.events.ts';
import { AML_CASE_CATEGORY, amlCaseDecider, type AmlCaseCommand, type AmlCaseEvent, type AmlCaseState } from './amlCase.decider.ts';

export type AmlCaseStep = { type: Exclude<AmlCaseCommand['type'], 'OpenAmlCase'>; caseId: string; analyst: string; note: string };

const CASE_CACHE_MAX = 1_000;

export class AmlCaseService {
  private readonly states: StreamStates<AmlCaseEvent, AmlCaseState>;

  constructor(private readonly store: EventStore, private readonly clock: Clock) {
    this.states = new StreamStates(store, amlCaseDecider.initialState, amlCaseDecider.evolve, (recorded) => recorded as unknown as AmlCaseEvent, CASE_CACHE_MAX);
  }

  /** Opens the case of an alert (its id is the alert's); `not_found` when there is no such alert. */
  async open(alertId: string, openedBy: string): Promise<AmlCaseState> {
    const [alert] = await this.store.readStream(`${AML_ALERT_CATEGORY}-${alertId}`, { limit: 1 });
    if (alert === undefined) throw new DaybookError('not_found', `no AML alert ${alertId}`, { alertId }, 'alertId');
    const { rule, customerId } = (alert as unknown as AmlAlertRaised).data;
    return this.decide(alertId, { type: 'OpenAmlCase', data: { caseId: alertId, alertId, rule, customerId, openedBy, at: this.now() } });
  }

  async step(step: AmlCaseStep): Promise<AmlCaseState> {
    const { type, caseId, analyst, note } = step;
    return this.decide(caseId, { type, data: { caseId, analyst, note, at: this.now() } } as AmlCaseCommand);
  }

  async get(caseId: string): Promise<AmlCaseState> {
    return (await this.states.load(this.streamId(caseId))).state;
  }

  private async decide(caseId: string, command: AmlCaseCommand): Promise<AmlCaseState> {
    const streamId = this.streamId(caseId);
    const loaded = await this.states.load(streamId);
    const events = amlCaseDecider.decide(command, loaded.state);
    await this.store.append({
      streamId, expectedVersion: loaded.version === 0n ? 'no_stream' : loaded.version,
      events: events.map((event) => ({ type: event.type, data: event.data, metadata: { actor: 'analyst' in event.data ? event.data.analyst : event.data.openedBy } })),
    });
    return events.reduce(amlCaseDecider.evolve, loaded.state);
  }

  private streamId(caseId: string): string {
    return `${AML_CASE_CATEGORY}-${caseId}`;
  }

  private now(): string {
    return new Date(this.clock.nowMs()).toISOString();
  }
}
