import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellWord } from '../../../src/cli/shell-word.js';

describe('shellWord', () => {
  it('leaves plain paths and names as they are', () => {
    expect(shellWord('/home/ana/my-model/config.yaml')).toBe('/home/ana/my-model/config.yaml');
    expect(shellWord('serving_stream')).toBe('serving_stream');
  });

  it('quotes anything a shell would split or expand, and sh reads it back unchanged', () => {
    for (const value of ['/tmp/my model/config.yaml', "it's", '$HOME/*', 'a"b`c`', '']) {
      const echoed = execFileSync('sh', ['-c', `printf %s ${shellWord(value)}`], { encoding: 'utf8' });
      expect(echoed).toBe(value);
    }
  });
});
