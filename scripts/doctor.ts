/** `npm run doctor`: checks the configuration and prints what to register with WeChat. Exit 1 when it is invalid. */
import { loadEnvConfig } from '@next/env';
import { parseConfig } from '../lib/config';
import { doctorReport } from '../lib/doctor';
import { v3LiveCheck } from '../lib/doctor-v3';

// The same .env files `next start` reads (.env.local included), so doctor checks what the server will run with.
loadEnvConfig(process.cwd(), false, { info: () => {}, error: console.error });
const report = doctorReport();
console.log(report.lines.join('\n'));
// --live: one signed v3 call to WeChat Pay (or the running sandbox) proves the keys fit together.
const parsed = parseConfig();
void (async () => {
  let ok = report.ok;
  if (ok && process.argv.includes('--live') && parsed.ok && parsed.config.v3) {
    const live = await v3LiveCheck(parsed.config);
    console.log(live.line);
    ok = live.ok;
  }
  process.exit(ok ? 0 : 1);
})();
