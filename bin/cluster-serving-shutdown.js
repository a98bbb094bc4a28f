#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

await main(['shutdown', ...process.argv.slice(2)], 'cluster-serving-shutdown');
