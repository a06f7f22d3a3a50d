/**
 * A small service publishing a typed event with Herald.
 *
 *   HERALD_KAFKA_BROKERS=127.0.0.1:19092 npx tsx examples/publish.ts
 *
 * Prints the id of the published event. The broker acknowledged it (acks=all) before emit()
 * resolved; `herald view --topic herald.events --from-beginning` shows it.
 */
import { createPublisher, type HeraldEvent } from 'herald';

/** The payload of our own event type; Herald carries any JSON as `data`. */
interface ClusterReady {
  nodes: number;
  version: string;
}

const brokers = (process.env.HERALD_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const topic = process.env.HERALD_KAFKA_TOPIC ?? 'herald.events';

const publisher = createPublisher({
  sinks: [{ name: 'main', type: 'kafka', brokers, topic, profile: 'cloudevents', mode: 'binary' }],
});

try {
  const data: ClusterReady = { nodes: 3, version: '4.16.2' };
  const event: HeraldEvent = await publisher.emit({
    source: 'https://example.com/cluster-manager',
    type: 'com.example.cluster.ready',
    entity: { kind: 'cluster', id: 'c-42' }, // also the Kafka record key: cluster:c-42
    severity: 'info',
    message: 'cluster c-42 is ready',
    data,
  });
  console.log(event.id);
} finally {
  await publisher.close();
}
