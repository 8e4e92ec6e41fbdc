import { createRunTempRoot } from './temp-root';

export default function globalSetup(): void {
  createRunTempRoot();
}
