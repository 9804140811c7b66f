import Table from 'cli-table3';

/** A plain table for the terminal (no borders, a rule under the heading), as admins paste it into tickets. */
export function renderTable(head: string[], rows: (string | number | null | undefined)[][]): string {
  const table = new Table({
    head,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '',
    },
  });
  for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))));
  const [heading = '', ...body] = table.toString().split('\n').map((line) => line.trimEnd());
  return [heading, '─'.repeat(Math.max(...[heading, ...body].map((line) => line.length))), ...body].join('\n');
}
