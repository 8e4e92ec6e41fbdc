import { removeRunTempRoot } from './temp-root';

export default function globalTeardown(): void {
  removeRunTempRoot();
}
