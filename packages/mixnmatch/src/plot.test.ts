import { describe, expect, it } from 'vitest';
import { paretoFront, type Point } from './pareto';
import { frontSvg } from './plot';

const pt = (widths: number[], cost: number, loss: number): Point => ({
  widths,
  cost,
  params: cost,
  flops: cost,
  loss,
});

describe('frontSvg', () => {
  it('draws every config, the front as a line, the trained granularities, the budget and labelled axes', () => {
    const points = [
      pt([8, 16], 100, 3),
      pt([16, 8], 100, 3.2),
      pt([16, 16], 150, 2.8),
      pt([8, 32], 160, 2.9),
    ];
    const trained = [pt([8, 8], 80, 3.3), pt([32, 32], 220, 2.5)];
    const svg = frontSvg({
      points,
      front: paretoFront(points),
      trained,
      best: points[2],
      heuristicBest: points[0],
      budget: 170,
      costKind: 'params',
      title: 'a <front>',
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<circle cx=[^>]*r="3" fill="#999"/g)).toHaveLength(4);
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg.match(/<rect x=[^>]*fill="#d62728">/g)).toHaveLength(2);
    expect(svg).toContain('>parameters</text>');
    expect(svg).toContain('>held-out loss (nats)</text>');
    expect(svg).toContain('>budget</text>');
    expect(svg).toContain('a &lt;front&gt;');
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });
});
