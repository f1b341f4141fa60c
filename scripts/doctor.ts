/** `npm run doctor`: checks the configuration and prints what to register with WeChat. Exit 1 when it is invalid. */
import { doctorReport } from '../lib/doctor';

const report = doctorReport();
console.log(report.lines.join('\n'));
process.exit(report.ok ? 0 : 1);
