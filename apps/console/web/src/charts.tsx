import { Paper, Table, Text, Title } from '@mantine/core';
import { useId } from 'react';
import { useI18n } from './i18n.tsx';

// Small SVG bar charts: no charting library needed for bars, and each chart carries its data
// as a table too, so screen-reader users and keyboard users get the same numbers.

export interface Bar {
  label: string;
  /** One or more series values (e.g. median and tail). */
  values: number[];
}

const COLOURS = ['#1864ab', '#c92a2a', '#2b8a3e', '#e67700', '#5f3dc4'];

export function BarChart({
  title,
  series,
  bars,
  unit,
  testId,
}: {
  title: string;
  series: string[];
  bars: Bar[];
  unit?: string;
  testId: string;
}) {
  const { num, t, lang } = useI18n();
  const id = useId();
  const rtl = lang === 'ar';
  const max = Math.max(1, ...bars.flatMap((b) => b.values));
  const rowH = 14 * series.length + 10;
  const labelW = 180;
  const width = 640;
  const plotW = width - labelW - 70;
  const height = Math.max(rowH * bars.length + 10, 30);
  const fmt = (v: number) => `${num(v, 1)}${unit ? ` ${unit}` : ''}`;
  return (
    <Paper withBorder p="md" component="figure" m={0} data-testid={testId}>
      <Title order={3} size="h5" id={id}>
        {title}
      </Title>
      {bars.length === 0 ? (
        <Text c="dimmed">{t('metrics.noData')}</Text>
      ) : (
        <>
          <svg
            role="img"
            aria-labelledby={id}
            viewBox={`0 0 ${width} ${height}`}
            width="100%"
            style={{ maxWidth: width, direction: 'ltr' }}
          >
            {bars.map((b, i) => (
              <g key={b.label} transform={`translate(0 ${i * rowH + 5})`}>
                <text x={rtl ? width - 4 : labelW - 6} y={rowH / 2} textAnchor="end" dominantBaseline="middle" fontSize="12" fill="#212529">
                  {b.label}
                </text>
                {b.values.map((v, s) => {
                  const w = Math.max(1, (v / max) * plotW);
                  const x = rtl ? width - labelW - w : labelW;
                  return (
                    <g key={s}>
                      <rect x={rtl ? x - 60 : x} y={s * 14} width={w} height={12} fill={COLOURS[s % COLOURS.length]} />
                      <text x={rtl ? x - 64 : x + w + 4} y={s * 14 + 10} fontSize="11" fill="#212529" textAnchor={rtl ? 'end' : 'start'}>
                        {fmt(v)}
                      </text>
                    </g>
                  );
                })}
              </g>
            ))}
          </svg>
          <Table mt="xs" fz="xs" captionSide="top">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">{title}</Table.Th>
                {series.map((s) => (
                  <Table.Th key={s} scope="col">
                    <span style={{ color: COLOURS[series.indexOf(s) % COLOURS.length] }} aria-hidden="true">
                      ■{' '}
                    </span>
                    {s}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {bars.map((b) => (
                <Table.Tr key={b.label}>
                  <Table.Th scope="row">{b.label}</Table.Th>
                  {b.values.map((v, s) => (
                    <Table.Td key={s}>{fmt(v)}</Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}
    </Paper>
  );
}
