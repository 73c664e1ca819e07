import { MemoryChannelLog } from '../../../src/core/channels/memory-log.ts';
import { countingRandom } from '../../helpers/fake-ports.ts';
import { channelLogSuite } from './channel-log-suite.ts';

channelLogSuite('memory', (budget) => new MemoryChannelLog(budget, countingRandom()));
