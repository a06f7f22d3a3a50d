/** The ingest pipeline: one way in for every entry point, its hand-overs, the library publisher, replay. */
export { Ingest, type IngestOptions, type IngestResult, type Handover, type StateChange } from './ingest.js';
export { DirectHandover } from './direct-handover.js';
export { DurableHandover } from './durable-handover.js';
export { openDurablePipeline, type DurablePipeline, type DurablePipelineOptions } from './durable.js';
export { createPublisher, type Publisher, type PublisherOptions, type DurableOptions } from './publisher.js';
export { enqueueReplay, countMatching, type ReplayFilter, type ReplayOptions } from './replay.js';
