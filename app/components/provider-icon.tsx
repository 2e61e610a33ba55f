export function ProviderIcon({ src, size = 28 }: { src: string; size?: number }) {
  return <img className="provider-icon" src={src} alt="" width={size} height={size} />;
}
