// The configuration page Teams shows when Remote Expert is added to a meeting, chat or channel
// (the manifest's configurableTabs): nothing to choose, so it offers the tab as it is.

import { loadConfig } from './config.js';
import * as teams from './teams.js';

async function configure() {
  const status = document.getElementById('configure-status');
  try {
    const config = await loadConfig();
    await teams.start(config.validMessageOrigins);
    teams.offerTabConfiguration({
      contentUrl: new URL('./', window.location.href).href,
      suggestedDisplayName: 'Remote Expert',
    });
    status.textContent = 'Select Save to add Remote Expert.';
  } catch (error) {
    status.textContent = `Remote Expert cannot be added here: ${error.message}`;
  }
}

configure();
