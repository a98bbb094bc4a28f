#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

await main(['start', ...process.argv.slice(2)], 'cluster-serving-start');
