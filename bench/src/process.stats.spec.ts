import { describe, expect, it } from '@jest/globals';
import { statusKb } from './process.stats.js';
import { SseParser } from './sse.parser.js';
import { LatencyMatcher } from './latency.match.js';

describe('bench helpers', () => {
  it('reads VmHWM and VmRSS from /proc/<pid>/status', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t   99999 kB\n';
    expect(statusKb(status, 'VmHWM')).toBe(123456);
    expect(statusKb(status, 'VmRSS')).toBe(99999);
    expect(statusKb('Name:\tkthreadd\n', 'VmHWM')).toBeNull();
  });

  it('parses SSE events split across chunks, skipping comments', () => {
    const p = new SseParser();
    expect(p.push('retry: 2000\n\n: keep-alive\n\nid: 1\nevent: alert\nda')).toEqual([]);
    expect(p.push('ta: {"a":1}\n\nid: 2\r\nevent: cancel\r\ndata: x\r\ndata: y\r\n\r\n')).toEqual([
      { id: '1', event: 'alert', data: '{"a":1}' },
      { id: '2', event: 'cancel', data: 'x\ny' },
    ]);
  });

  it('matches sends and arrivals in either order', () => {
    const m = new LatencyMatcher();
    m.send('a', 100);
    m.arrive('b', 150);
    m.send('b', 120);
    m.arrive('a', 130);
    m.send('c', 200);
    m.arrive('a', 400);
    expect([...m.latencies].sort((x, y) => x - y)).toEqual([30, 30]);
    expect(m.pending).toBe(1);
  });
});
