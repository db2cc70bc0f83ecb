/**
 * One thing that runs beside the gateway in `nqgw run` (services.ts starts them, stops them in
 * reverse order). Its own file so that the services-*.ts files need nothing of services.ts.
 */
export interface Service {
  name: string;
  stop(): Promise<void>;
}
