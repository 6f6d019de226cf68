// Text in columns, the way kubectl prints tables: each column padded to its widest cell, `gap`
// spaces between, no trailing blanks. Shared by the demo and `kubectl stampede`.

export function columns(rows: readonly (readonly string[])[], gap = 2): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  const between = ' '.repeat(gap);
  return rows
    .map(row =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join(between)
        .trimEnd(),
    )
    .join('\n');
}
