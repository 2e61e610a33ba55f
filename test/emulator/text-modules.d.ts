// Files wrangler bundles as Text modules (see the [[rules]] in wrangler.toml).
declare module "*.graphql" {
  const text: string;
  export default text;
}
