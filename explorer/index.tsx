// The GraphQL explorer page: GraphiQL bundled from npm at build time (no CDN), talking to the
// endpoint that served it. Queries and mutations go over HTTP POST, subscriptions over
// graphql-ws on the same path; the Headers tab's Authorization reaches both.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

declare global {
  // Read by react-style-singleton (through get-nonce) for the <style> tags its dialogs add,
  // so the page's Content-Security-Policy needs no 'unsafe-inline'.
  var __webpack_nonce__: string | undefined;
}

const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content;
if (nonce) globalThis.__webpack_nonce__ = nonce;

// Same origin and path as this page, so it works behind any host name or proxy prefix.
const httpUrl = new URL(window.location.pathname, window.location.href);
const wsUrl = new URL(httpUrl);
wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';

// The toolkit opens one graphql-ws client per subscription with the editor's headers as
// connection parameters, so a changed Authorization applies to the next subscription.
const fetcher = createGraphiQLFetcher({
  url: httpUrl.href,
  subscriptionUrl: wsUrl.href,
  // Apollo answers plain JSON; multipart is only for @defer, which this API does not offer.
  enableIncrementalDelivery: false,
});

const defaultQuery = `# Welcome to the chat API explorer.
#
# Most fields need a signed-in user: run the login mutation below, then put
#   { "Authorization": "Bearer <token>" }
# in the Headers tab. The header is sent with every request and as the
# connection parameters of subscriptions (which run over graphql-ws).

mutation Login {
  login(input: { login: "alice", password: "your password" }) {
    token
  }
}

query Me {
  me {
    id
    username
  }
}
`;

createRoot(document.getElementById('explorer')!).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={defaultQuery}
      defaultEditorToolsVisibility="headers"
      // Tokens stay out of localStorage.
      shouldPersistHeaders={false}
    />
  </StrictMode>,
);
