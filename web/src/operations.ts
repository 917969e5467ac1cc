// Every operation of the client. `npm run codegen` turns each graphql(`...`) into a typed
// document (web/src/gql), so variables and results are checked against schema.graphql.
import { graphql } from './gql';

export const UserFields = graphql(`
  fragment UserFields on User {
    id
    username
    displayName
    online
  }
`);

export const MessageFields = graphql(`
  fragment MessageFields on Message {
    id
    body
    createdAt
    editedAt
    deleted
    score
    upvotes
    downvotes
    myVote
    mentionsMe
    author {
      id
      username
      displayName
    }
    ...ReactionFields
    ...ThreadSummaryFields
  }
`);

export const ChannelListFields = graphql(`
  fragment ChannelListFields on Channel {
    id
    name
    kind
    unreadCount
    peer {
      ...UserFields
    }
  }
`);

export const SignupMutation = graphql(`
  mutation Signup($input: SignupInput!) {
    signup(input: $input) {
      token
    }
  }
`);

export const LoginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      token
    }
  }
`);

export const LogoutMutation = graphql(`
  mutation Logout {
    logout
  }
`);

export const MeQuery = graphql(`
  query Me {
    me {
      ...UserFields
      email
      bio
      createdAt
    }
  }
`);

export const MyChannelsQuery = graphql(`
  query MyChannels {
    myChannels {
      ...ChannelListFields
    }
  }
`);

export const DirectoryQuery = graphql(`
  query Directory($search: String, $first: Int, $after: String) {
    channels(search: $search, first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          name
          description
          memberCount
          isMember
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const JoinChannelMutation = graphql(`
  mutation JoinChannel($channelId: ID!) {
    joinChannel(channelId: $channelId) {
      id
      isMember
      memberCount
    }
  }
`);

export const CreateChannelMutation = graphql(`
  mutation CreateChannel($input: CreateChannelInput!) {
    createChannel(input: $input) {
      id
    }
  }
`);

export const UsersQuery = graphql(`
  query Users($search: String, $first: Int, $after: String) {
    users(search: $search, first: $first, after: $after) {
      edges {
        cursor
        node {
          ...UserFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const UserProfileQuery = graphql(`
  query UserProfile($username: String!) {
    user(username: $username) {
      ...UserFields
      bio
      createdAt
    }
  }
`);

export const UpdateProfileMutation = graphql(`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) {
      id
      displayName
      bio
    }
  }
`);

export const OpenDirectChannelMutation = graphql(`
  mutation OpenDirectChannel($userId: ID!) {
    openDirectChannel(userId: $userId) {
      ...ChannelListFields
    }
  }
`);

export const ChannelHeaderQuery = graphql(`
  query ChannelHeader($id: ID!) {
    channel(id: $id) {
      id
      name
      kind
      description
      memberCount
      isMember
      peer {
        ...UserFields
      }
    }
  }
`);

export const ChannelMessagesQuery = graphql(`
  query ChannelMessages($channelId: ID!, $last: Int, $before: String) {
    messages(channelId: $channelId, last: $last, before: $before) {
      edges {
        cursor
        node {
          ...MessageFields
        }
      }
      pageInfo {
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`);

export const ChannelEventsSubscription = graphql(`
  subscription ChannelEvents($channelId: ID!, $after: String) {
    channelEvents(channelId: $channelId, after: $after) {
      __typename
      ... on MessageAdded {
        cursor
        message {
          ...MessageFields
        }
      }
      ... on MessageUpdated {
        message {
          ...MessageFields
        }
      }
      ... on MessageDeleted {
        message {
          ...MessageFields
        }
      }
      ... on UserTyping {
        user {
          id
          displayName
        }
      }
      ... on MemberJoined {
        user {
          ...UserFields
        }
      }
      ... on MemberLeft {
        user {
          id
        }
      }
      ... on ChannelUpdated {
        channel {
          id
          name
          description
        }
      }
      ... on ChannelDeleted {
        channelId
      }
    }
  }
`);

export const InboxSubscription = graphql(`
  subscription Inbox {
    inbox {
      cursor
      message {
        id
        channel {
          id
          unreadCount
        }
      }
    }
  }
`);

export const SendMessageMutation = graphql(`
  mutation SendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) {
      ...MessageFields
    }
  }
`);

export const VoteMutation = graphql(`
  mutation Vote($messageId: ID!, $value: VoteValue!) {
    vote(messageId: $messageId, value: $value) {
      id
      score
      upvotes
      downvotes
      myVote
    }
  }
`);

export const MarkReadMutation = graphql(`
  mutation MarkRead($channelId: ID!) {
    markRead(channelId: $channelId) {
      id
      unreadCount
    }
  }
`);

export const SetTypingMutation = graphql(`
  mutation SetTyping($channelId: ID!) {
    setTyping(channelId: $channelId)
  }
`);
