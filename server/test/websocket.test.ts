import { websocketDial } from './helpers/websocket-dial.ts';
import { transportSuite } from './transport-suite.ts';

transportSuite('websocket', (server) => websocketDial(server.httpPort));
