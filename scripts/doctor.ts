/** `npm run doctor`: checks the configuration and prints what to register with WeChat. Exit 1 when it is invalid. */
import { loadEnvConfig } from '@next/env';
import { doctorReport } from '../lib/doctor';

// The same .env files `next start` reads (.env.local included), so doctor checks what the server will run with.
loadEnvConfig(process.cwd(), false, { info: () => {}, error: console.error });
const report = doctorReport();
console.log(report.lines.join('\n'));
process.exit(report.ok ? 0 : 1);
