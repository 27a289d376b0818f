import { Foundation1764000000000 } from './1764000000000-foundation';
import { Recording1764100000000 } from './1764100000000-recording';
import { Auth1764200000000 } from './1764200000000-auth';
import { Clips1764300000000 } from './1764300000000-clips';
import { Retention1764400000000 } from './1764400000000-retention';
import { Webhooks1764500000000 } from './1764500000000-webhooks';
import { Modules1764600000000 } from './1764600000000-modules';
import { Perception1764700000000 } from './1764700000000-perception';
import { Zones1764800000000 } from './1764800000000-zones';
import { WebhookCameraScope1765000000000 } from './1765000000000-webhook-camera-scope';
import { ClipEvidence1765100000000 } from './1765100000000-clip-evidence';
import { Coverage1765700000000 } from './1765700000000-coverage';
import { ModuleLifecycle1765800000000 } from './1765800000000-module-lifecycle';
import { RecordingModes1766100000000 } from './1766100000000-recording-modes';
import { Snapshots1766200000000 } from './1766200000000-snapshots';
import { ClusterNodes1766300000000 } from './1766300000000-cluster-nodes';
import { CameraLeases1766400000000 } from './1766400000000-camera-leases';
import { IndexedDays1766500000000 } from './1766500000000-indexed-days';
import { ClusterMedia1766600000000 } from './1766600000000-cluster-media';
import { NodeScope1766700000000 } from './1766700000000-node-scope';

/** Every migration, in order. Shipped migrations are never edited: add a new one. */
export const MIGRATIONS = [
  Foundation1764000000000,
  Recording1764100000000,
  Auth1764200000000,
  Clips1764300000000,
  Retention1764400000000,
  Webhooks1764500000000,
  Modules1764600000000,
  Perception1764700000000,
  Zones1764800000000,
  WebhookCameraScope1765000000000,
  ClipEvidence1765100000000,
  Coverage1765700000000,
  ModuleLifecycle1765800000000,
  RecordingModes1766100000000,
  Snapshots1766200000000,
  ClusterNodes1766300000000,
  CameraLeases1766400000000,
  IndexedDays1766500000000,
  ClusterMedia1766600000000,
  NodeScope1766700000000,
];
