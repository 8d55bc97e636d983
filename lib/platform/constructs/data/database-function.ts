import type { Construct } from 'constructs';
import { BundledFunction, type BundledFunctionProps } from '../compute/bundled-function';
import type { AccountDatabase } from './account-database';

export interface DatabaseFunctionProps extends Omit<BundledFunctionProps, 'network'> {
  /** The database the function connects to, as its one IAM-authenticated user. */
  readonly database: AccountDatabase;
  /** The network the database is reachable in. */
  readonly network: NonNullable<BundledFunctionProps['network']>;
  /**
   * The function's own variables. The database's client variables (`database.clientEnvironment()`)
   * are set by this construct; naming one of them here is an error.
   */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * A function that talks to the account database from inside the VPC through `lambda/shared-db`:
 * the database admits its security group, its role may connect as the database's IAM user, and its
 * environment tells the client where and how to connect.
 */
export class DatabaseFunction extends BundledFunction {
  constructor(scope: Construct, id: string, props: DatabaseFunctionProps) {
    const { database, ...functionProps } = props;
    const client = database.clientEnvironment();
    const clashes = Object.keys(props.environment).filter((name) => Object.hasOwn(client, name));
    if (clashes.length > 0) {
      throw new Error(
        `Invalid DatabaseFunction ${id}:\n  - ${clashes.map((name) => `environment.${name}: set from the database; leave it out`).join('\n  - ')}`,
      );
    }
    super(scope, id, { ...functionProps, environment: { ...client, ...props.environment } });
    database.allowFrom(this.function);
    database.grantConnect(this.function);
  }
}
