interface ImportMetaEnv {
  readonly VITE_KEYWARDEN_URL?: string;
  readonly VITE_KEYWARDEN_PROVIDER?: string;
  readonly VITE_S3_ENDPOINT?: string;
  readonly VITE_AWS_REGION?: string;
  readonly VITE_BUCKET?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
