// HEALTHCHECK for the image: exits 0 when GET /health answers 200 (no curl in a slim image).
import { get } from 'node:http'

const port = Number(process.env.PORT || 8080)
const req = get({ host: '127.0.0.1', port, path: '/health', timeout: 3000 }, (res) =>
  process.exit(res.statusCode === 200 ? 0 : 1),
)
req.on('error', () => process.exit(1))
req.on('timeout', () => process.exit(1))
