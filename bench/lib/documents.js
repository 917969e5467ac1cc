'use strict';
// The GraphQL documents the bench sends (written against ../shared/api/contract.graphql).

const MESSAGE_FIELDS = 'id body createdAt author { id username displayName }';

module.exports = {
  SIGNUP: 'mutation Signup($input: SignupInput!) { signup(input: $input) { token user { id username } } }',
  CREATE_CHANNEL: 'mutation Create($input: CreateChannelInput!) { createChannel(input: $input) { id name } }',
  JOIN_CHANNEL: 'mutation Join($channelId: ID!) { joinChannel(channelId: $channelId) { id } }',
  SEND: 'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id createdAt } }',
  LATEST: `query Latest($channelId: ID!, $last: Int, $before: String) { messages(channelId: $channelId, last: $last, before: $before) { edges { cursor node { id body } } pageInfo { hasPreviousPage } } }`,
  /** What a chat client keeps open per channel: new messages with their author. */
  CHANNEL_EVENTS: `subscription Events($channelId: ID!, $after: String) { channelEvents(channelId: $channelId, after: $after) { __typename ... on MessageAdded { cursor message { ${MESSAGE_FIELDS} } } } }`,
};
