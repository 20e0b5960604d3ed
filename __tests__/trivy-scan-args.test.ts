import { describe, expect, it } from '@jest/globals'
import {
  imageConfigScanners,
  trivyConvertToSarifArgs,
  trivyDownloadDbArgs,
  trivyImageScanArgs,
  type TrivyScanArgsOptions,
} from '../src/trivy/scan-args.js'
import { trivyErrorLines } from '../src/trivy/scan-image.js'

const base: TrivyScanArgsOptions = {
  image: 'iris:abc1234',
  jsonReport: '/tmp/r/trivy-report.json',
  scanners: ['vuln', 'secret', 'misconfig'],
  cacheDir: '/cache/trivy',
  timeout: '10m',
  ignoreFile: '',
  server: '',
  offline: false,
}

describe('trivyImageScanArgs', () => {
  it('scans the local image from Docker once, to JSON, with the local DB the action prepared', () => {
    expect(trivyImageScanArgs(base)).toEqual([
      'image',
      '--image-src',
      'docker',
      '--format',
      'json',
      '--output',
      '/tmp/r/trivy-report.json',
      '--scanners',
      'vuln,secret,misconfig',
      '--image-config-scanners',
      'secret,misconfig',
      '--cache-dir',
      '/cache/trivy',
      '--timeout',
      '10m',
      '--no-progress',
      '--show-suppressed',
      '--skip-db-update',
      '--skip-version-check',
      '--disable-telemetry',
      'iris:abc1234',
    ])
  })

  it('passes the ignore file and each VEX document and, offline, skips every download', () => {
    const args = trivyImageScanArgs({
      ...base,
      ignoreFile: '/w/trivyignore.merged.yaml',
      vexFiles: ['/ws/a.openvex.json', '/ws/b.csaf.json'],
      offline: true,
    })
    expect(args).toEqual(expect.arrayContaining(['--ignorefile', '/w/trivyignore.merged.yaml']))
    expect(args.join(' ')).toContain('--vex /ws/a.openvex.json --vex /ws/b.csaf.json')
    expect(args).toContain('--show-suppressed')
    expect(args).toEqual(
      expect.arrayContaining(['--skip-db-update', '--skip-java-db-update', '--skip-check-update']),
    )
    expect(args.at(-1)).toBe('iris:abc1234')
  })

  it('in client/server mode asks the server, with no local DB flags', () => {
    const args = trivyImageScanArgs({ ...base, server: 'http://trivy:4954' })
    expect(args).toEqual(expect.arrayContaining(['--server', 'http://trivy:4954']))
    expect(args).not.toContain('--skip-db-update')
  })

  it('scans the image config only for misconfig and secret', () => {
    expect(imageConfigScanners(['vuln'])).toEqual([])
    expect(imageConfigScanners(['license', 'secret'])).toEqual(['secret'])
    expect(trivyImageScanArgs({ ...base, scanners: ['vuln'] })).not.toContain(
      '--image-config-scanners',
    )
  })
})

describe('trivyDownloadDbArgs', () => {
  it('downloads only the DB, from the mirrors given', () => {
    expect(
      trivyDownloadDbArgs({
        cacheDir: '/c',
        timeout: '5m',
        dbRepositories: ['mirror.example/trivy-db:2', 'ghcr.io/aquasecurity/trivy-db:2'],
      }),
    ).toEqual([
      'image',
      '--download-db-only',
      '--cache-dir',
      '/c',
      '--timeout',
      '5m',
      '--no-progress',
      '--db-repository',
      'mirror.example/trivy-db:2,ghcr.io/aquasecurity/trivy-db:2',
      '--skip-version-check',
      '--disable-telemetry',
    ])
    expect(
      trivyDownloadDbArgs({ cacheDir: '/c', timeout: '5m', dbRepositories: [] }),
    ).not.toContain('--db-repository')
  })
})

describe('trivyConvertToSarifArgs', () => {
  it('converts the JSON report without rescanning and without a severity filter', () => {
    const args = trivyConvertToSarifArgs('/r/a.json', '/r/a.sarif')
    expect(args).toEqual(['convert', '--format', 'sarif', '--output', '/r/a.sarif', '/r/a.json'])
    expect(args).not.toContain('--severity')
  })
})

describe('trivyErrorLines', () => {
  it('keeps ERROR lines, but not the offline fallback to embedded checks', () => {
    const stderr = [
      '2026-11-25T19:51:30Z\tINFO\t[vuln] Vulnerability scanning is enabled',
      '2026-11-25T19:51:30Z\tERROR\t[misconfig] Falling back to embedded checks\terr="..."',
      '2026-11-25T19:51:33Z\tERROR\t[dockerfile scanner] Failed to parse file\tfile_path="Dockerfile"',
      '2026-11-25T19:51:33Z\tWARN\t[secret] The size of the scanned file is too large.',
    ].join('\n')
    expect(trivyErrorLines(stderr)).toEqual([
      '[dockerfile scanner] Failed to parse file\tfile_path="Dockerfile"',
    ])
  })
})
