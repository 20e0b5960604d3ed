// The one renderer: text from data is inert wherever it lands (tables, lines, code spans, links).
import { describe, expect, it } from '@jest/globals'
import {
  code,
  details,
  escape,
  formatBytes,
  join,
  link,
  strong,
  table,
} from '../src/render/markdown.js'

const HOSTILE = [
  '<img src=https://evil.example/x.png>',
  '[Approve](https://evil.example)',
  '</details><script>alert(1)</script>',
  'a | b',
  'line\nbreak\r\n::warning::x',
  '**bold** _em_ `code` ~strike~ # heading',
]

describe('escape', () => {
  it.each(HOSTILE)('makes %j inert on one line', (text) => {
    const out = escape(text)
    expect(out).not.toMatch(/[\r\n]/)
    expect(out).not.toMatch(/<[a-z/]/i)
    expect(out).not.toMatch(/(^|[^\\])\[/)
    expect(out).not.toMatch(/(^|[^\\])\|/)
    expect(out).not.toMatch(/(^|[^\\])[*_`~]/)
  })

  it('keeps ordinary text readable', () => {
    expect(escape('setosa 1.0-2 (debian 12)')).toBe('setosa 1.0-2 (debian 12)')
    expect(escape(0.95)).toBe('0.95')
    expect(escape(undefined)).toBe('')
  })
})

describe('markup helpers', () => {
  it('code spans take any text, backticks and pipes included', () => {
    expect(code('iris:abc').text).toBe('`iris:abc`')
    expect(code('a`b').text).toBe('``a`b``')
    expect(code('`x').text).toBe('`` `x ``')
    expect(code('a|b\nc').text).toBe('`a\\|b c`')
  })

  it('links only to plain http(s) URLs; anything else stays text', () => {
    expect(link('CVE-1', 'https://avd.aquasec.com/nvd/cve-1').text).toBe(
      '[CVE-1](https://avd.aquasec.com/nvd/cve-1)',
    )
    expect(link('x', 'javascript:alert(1)').text).toBe('x')
    expect(link('x', 'https://a.example/) [y](https://b.example').text).toBe('x')
    expect(link('[t]', undefined).text).toBe('\\[t\\]')
  })

  it('tables render every cell, text escaped and markup kept', () => {
    const t = table(
      ['Class', 'Note'],
      [
        ['a|b', strong('ok')],
        [join('x ', code('y')), 3],
      ],
    )
    expect(t.split('\n')).toEqual([
      '| Class | Note |',
      '| --- | --- |',
      '| a\\|b | **ok** |',
      '| x `y` | 3 |',
    ])
  })

  it('details and sizes', () => {
    expect(details('<b>', 'body')).toBe(
      '<details><summary>&lt;b&gt;</summary>\n\nbody\n\n</details>',
    )
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
  })
})
